"""Behaviour rules: small pure functions over numpy scalars and arrays alike.

Every mechanism of the model lives in exactly one function here. The Mesa engine calls them
with one run's scalars, the batched engine with arrays over replicates; neither computes a
mechanism anywhere else. All conditionals are ``where`` (np.where) so that a rule means the same for
a scalar and for every element of an array, and a rule gives the same bits on a scalar as on
that element of an array (the engines are compared with ``==``): no ``**``, ``math`` or Python
``if`` on values here; powers go through :func:`power`. Each docstring gives the equation and
its source.

Notation: ``s`` sanctions level, ``c`` Chinese enforcement, ``a`` alliance alignment,
``E`` DPRK economic stress, ``T`` perceived threat, ``R`` reactance to new sanctions,
``G`` weapons-programme progress, ``H`` self-excitation of the test hazard, ``mu`` a trust
(belief that the other side is a security seeker), ``x`` exercise intensity, ``N`` tests in
the week, ``r`` the rung of the week's tests.
"""

from __future__ import annotations

import numpy as np

MAX_TESTS_PER_WEEK = 10
"""Truncation of the weekly Poisson test count (P(N > 10) < 1e-9 for rates below 1)."""

RUNGS = 4
"""Escalation ladder (Kahn 1965): 1 short-range, 2 intermediate-range, 3 ICBM/SLBM/space launch, 4 nuclear test."""

# Talks stages.
NO_TALKS, INTER_KOREAN, PRELIMINARY, NEGOTIATIONS = 0, 1, 2, 3


# ---------------------------------------------------------------------------------------------
# Generic building blocks
# ---------------------------------------------------------------------------------------------


def where(condition, x, y):
    """``np.where`` that returns a numpy scalar (not a 0-d array) for scalar inputs.

    Arithmetic on 0-d arrays is about ten times slower than on numpy scalars, and the Mesa
    engine calls every rule with scalars; for arrays this is ``np.where`` itself.
    """
    return np.where(condition, x, y)[()]


def power(base, exponent):
    """``base ** exponent`` elementwise, rounded the same whatever the shapes of its arguments.

    numpy's power has several kernels that round differently in the last bit (about one
    argument in 200): its vectorised (SIMD) kernel for arrays, the C library's ``pow`` for
    scalars and 0-d arrays, and a special path for an array raised to one scalar exponent;
    Python's ``float ** int`` is a fourth. Here both arguments are always made contiguous
    arrays of the broadcast shape (one element for scalars), so the Mesa engine (scalars) and
    the batched engine (arrays, with parameters shared as scalars or given per run) get the
    same bits.
    """
    if not (getattr(base, "ndim", 0) or getattr(exponent, "ndim", 0)):
        return np.power([base], [exponent])[0]  # one run's scalars
    shape = np.broadcast_shapes(np.shape(base), np.shape(exponent))
    return np.power(np.ascontiguousarray(np.broadcast_to(base, shape)),
                    np.ascontiguousarray(np.broadcast_to(exponent, shape)))


def event_probability(rate):
    """Probability that an event with weekly hazard ``rate`` happens within one week:
    ``P = 1 - exp(-rate)`` (constant hazard over the week)."""
    return -np.expm1(-np.asarray(rate, dtype=float))


def bounded_accumulation(level, drive, gain, decay):
    """A level in [0, 1] pushed up by a drive and relaxing toward 0.

    ``L' = L + gain * drive * (1 - L) - decay * L``, clipped to [0, 1]: saturating growth
    (the gap closes in proportion to the drive) and first-order decay, the discrete form of
    Richardson's (1960) ``x' = k*y - a*x``.
    """
    return np.minimum(np.maximum(level + gain * drive * (1.0 - level) - decay * level, 0.0), 1.0)


def logit_choice(utility, precision):
    """Probability of choosing an action over its alternative under logit (quantal-response)
    choice: ``P = 1 / (1 + exp(-lambda * U))`` (Signorino 1999), ``U`` the utility difference."""
    return 1.0 / (1.0 + np.exp(-precision * utility))


# ---------------------------------------------------------------------------------------------
# Pressure: sanctions, China, Japan, alliance
# ---------------------------------------------------------------------------------------------


def alignment_factor(alignment, effect):
    """Share of pressure and of engagement that survives misalignment:
    ``f = 1 - effect * (1 - a)`` (DOMAIN mechanism 4: misalignment weakens both)."""
    return 1.0 - effect * (1.0 - alignment)


def effective_sanctions(level, china_enforcement, china_trade_share, alignment, alignment_effect):
    """Sanctions pressure the DPRK feels.

    ``p = s * (share * c + (1 - share)) * (1 - effect * (1 - a))``: the share of trade through
    China (about 95%, DOMAIN anchors) is sanctioned only as far as China enforces; the rest is
    enforced fully; misalignment of the alliance weakens the whole.
    """
    reach = china_trade_share * china_enforcement + (1.0 - china_trade_share)
    return level * reach * alignment_factor(alignment, alignment_effect)


def china_enforcement(base, trust, initial_trust, sensitivity):
    """Share of sanctioned trade China enforces.

    ``c = clip(c0 + k * (mu0 - mu), 0, 1)``: China enforces more as its trust toward the DPRK
    falls below where it started (it suspended coal imports after the February 2017 test)
    and less as it rises. Assumption, anchored on the record's 2017 episode.
    """
    return np.minimum(np.maximum(base + sensitivity * (initial_trust - trust), 0.0), 1.0)


def sanctions_adoption_probability(response_prob, japan_weight, japan_present):
    """Weekly probability that a pending sanctions package is adopted.

    ``p = min(1, p0 * (1 + w_J * [Japan present]))``: a geometric lag with mean ``1/p`` weeks
    (F2: resolutions came 1-12 weeks after a major test); Japan's lobbying shortens it (the
    seed: Pence announced new sanctions in Tokyo).
    """
    return np.minimum(1.0, response_prob * (1.0 + japan_weight * japan_present))


def package_adopted(pending, u, adoption_probability, endogenous):
    """Whether a pending sanctions package is adopted this week: ``pending & (u < p) & endogenous``
    (geometric lag; ``endogenous`` is 0 when a historical scenario dictates the sanctions)."""
    return pending & (u < adoption_probability) & (endogenous > 0)


def package_pending(pending, adopted, tests, rung, trigger_rung):
    """Whether a sanctions package is on its way after the week: an unadopted one stays pending,
    and a test at or above the trigger rung starts one (F2: each nuclear test or ICBM salvo drew a
    UNSC resolution). ``pending' = (pending & ~adopted) | (N > 0 & r >= trigger)``."""
    return (pending & np.logical_not(adopted)) | ((tests > 0) & (rung >= trigger_rung))


def escalate_sanctions(level, packages, escalation):
    """Sanctions level after ``packages`` new packages.

    ``s' = 1 - (1 - s) * (1 - e)^packages``: each package closes a share ``e`` of the gap to
    full sanctions (record: UNSCR 2270-2397 closed 0.28-0.71 of it). Pressure never comes
    off (seed: "no pressure comes off until ... a meaningful step toward denuclearization").
    """
    return 1.0 - (1.0 - level) * power(1.0 - escalation, packages)


def alliance_alignment(alignment, mediation, pressure_first, rate, gap):
    """US-ROK alignment after a week.

    ``a' = a + rate * (a* - a)`` with target ``a* = 1 - gap * m * [pressure_first]``: a
    mediating Seoul and a Washington that insists on concessions first pull apart; a shared
    "pressure and engagement" stance repairs the break (seed).
    """
    target = 1.0 - gap * mediation * pressure_first
    return alignment + rate * (target - alignment)


# ---------------------------------------------------------------------------------------------
# DPRK: stress, threat, reactance, programme
# ---------------------------------------------------------------------------------------------


def accumulate_stress(stress, pressure, gain, recovery):
    """Economic stress after a week of sanctions pressure ``p``:
    ``E' = E + gain * p * (1 - E) - recovery * E`` (see :func:`bounded_accumulation`;
    record: exports fell from $2.8bn in 2016 to $0.24bn in 2018)."""
    return bounded_accumulation(stress, pressure, gain, recovery)


def perceived_threat(threat, exercise, gain, decay):
    """Threat perceived by the DPRK after a week with exercise intensity ``x``:
    ``T' = T + gain * x * (1 - T) - decay * T`` (DOMAIN mechanism 5: the exercises are the
    concession Pyongyang wants removed)."""
    return bounded_accumulation(threat, exercise, gain, decay)


def reactance(level, packages, decay, per_package):
    """Reactance to new sanctions: ``R' = (1 - decay) * R + per_package * packages``.

    A "toughest ever" package may make the regime resume testing (seed, mechanism 6); the
    effect fades geometrically.
    """
    return (1.0 - decay) * level + per_package * packages


def programme_progress(progress, tests, rung, per_test):
    """Weapons-programme progress after ``N`` tests at rung ``r``:
    ``G' = 1 - (1 - G) * (1 - g * r / 4)^N``: each test closes a share of the gap to a
    completed programme, more for higher rungs (the DPRK declared completion in Nov 2017)."""
    return 1.0 - (1.0 - progress) * power(1.0 - per_test * rung / RUNGS, tests)


# ---------------------------------------------------------------------------------------------
# DPRK: testing as a self-exciting (Hawkes) process on an escalation ladder
# ---------------------------------------------------------------------------------------------


def baseline_test_rate(mu0, threat, reactance_level, progress, in_talks,
                       threat_weight, reactance_weight, progress_weight, talks_weight):
    """Baseline test rate ``mu(t)`` (tests per week) before self-excitation.

    ``mu(t) = mu0 * exp(w_T*T + w_R*R - w_G*G - w_D*[in talks])``: exercises and sanctions enter
    through the baseline, not as hard-coded triggers (Hess 2018); a completed programme and
    talks in progress lower the need to test (F3).
    """
    return mu0 * np.exp(
        threat_weight * threat
        + reactance_weight * reactance_level
        - progress_weight * progress
        - talks_weight * in_talks
    )


def hawkes_decay_and_jump(alpha, beta):
    """Weekly decay factor and jump per test of the discretised Hawkes kernel.

    The continuous kernel ``alpha * exp(-beta * t)`` integrated over each week after a test
    gives ``(alpha/beta) * (1 - e^-beta) * e^(-beta*(k-1))`` in week ``k``, so
    ``decay = e^-beta`` and ``jump = (alpha/beta) * (1 - e^-beta)``. The jumps sum to
    ``alpha/beta`` exactly, so the long-run rate is ``mu / (1 - alpha/beta)`` as in continuous
    time (Hawkes 1971).
    """
    decay = np.exp(-beta)
    return decay, (alpha / beta) * (1.0 - decay)


def self_excitation(excitation, tests, alpha, beta):
    """Self-excitation after a week: ``H' = e^-beta * H + (alpha/beta)(1 - e^-beta) * N``.

    ``lambda(t) = mu(t) + sum_i alpha * exp(-beta * (t - t_i))`` summed over past tests
    (Hawkes 1971; Hess 2018: the best predictor of a provocation is a recent provocation).
    """
    decay, jump = hawkes_decay_and_jump(alpha, beta)
    return decay * excitation + jump * tests


def poisson_count(rate, u, max_count: int = MAX_TESTS_PER_WEEK):
    """Number of events in a week with Poisson mean ``rate``, by inverse CDF from one uniform ``u``.

    ``N = #{k < max_count : u > F(k)}`` with ``F`` the Poisson CDF; one uniform per draw keeps
    the random numbers aligned across runs (common random numbers).
    """
    rate = np.asarray(rate, dtype=float)
    u = np.asarray(u, dtype=float)
    pmf = np.exp(-rate)
    cdf = pmf
    count = np.zeros(np.broadcast_shapes(rate.shape, u.shape), dtype=np.int64)
    for k in range(1, max_count + 1):
        above = u > cdf
        if not above.any():
            break
        count += above
        pmf = pmf * rate / k
        cdf = cdf + pmf
    return count[()]


def next_rung(last_rung, tests, u, up_prob, down_prob):
    """Rung of this week's tests on the escalation ladder (Kahn 1965): mostly one rung at a time.

    No tests: the last rung is kept. A first test ever is at rung 1. Otherwise, with one
    uniform ``u``: ``u < down`` one rung down (not below 1); ``u > 1 - up`` one rung up (not
    above 4); else the same rung.
    """
    moved = where(
        u < down_prob,
        np.maximum(last_rung - 1, 1),
        where(u > 1.0 - up_prob, np.minimum(last_rung + 1, RUNGS), last_rung),
    )
    moved = where(last_rung == 0, 1, moved)
    return where(tests > 0, moved, last_rung)


# ---------------------------------------------------------------------------------------------
# Trust: Bayesian updating on observed signals (Kydd 2005)
# ---------------------------------------------------------------------------------------------


def bayes_trust(trust, q_secure, q_greedy):
    """Kydd's (2005) trust update on a signal ``s``:
    ``mu' = mu * q_S(s) / (mu * q_S(s) + (1 - mu) * q_G(s))``, ``q_S``/``q_G`` the signal's
    likelihood if the other side is a security seeker / greedy."""
    numerator = trust * q_secure
    return numerator / (numerator + (1.0 - trust) * q_greedy)


def update_trust(trust, log_likelihood_ratio):
    """Trust after a signal with log likelihood ratio ``llr = log(q_G / q_S)``:
    :func:`bayes_trust` with ``q_S = 1``, ``q_G = exp(llr)``. Positive ``llr`` (a signal more
    likely from a greedy type) lowers trust; negative raises it."""
    return bayes_trust(trust, 1.0, np.exp(log_likelihood_ratio))


def test_signal(tests, rung, test_llr, quiet_llr):
    """Log likelihood ratio (greedy : secure) of a week's DPRK testing, as others read it.

    ``llr = test_llr * r * N`` in a week with ``N`` tests at rung ``r`` (higher rungs are
    costlier, more telling signals); ``-quiet_llr`` in a quiet week (a cheap signal that
    barely moves trust, Kydd 2005).
    """
    return where(tests > 0, test_llr * rung * tests, -quiet_llr)


def alliance_signal(held, forgone, packages, exercise_llr, suspension_llr, sanctions_llr):
    """Log likelihood ratio (hostile : benign) of the alliance's week, as the DPRK reads it.

    ``llr = exercise_llr * x_held - suspension_llr * x_forgone + sanctions_llr * packages``:
    exercises held and new sanctions read as hostile; a scheduled exercise forgone (delayed,
    scaled down or suspended) is a costly signal of benign intent (Kydd 2005; Osgood's GRIT).
    """
    return exercise_llr * held - suspension_llr * forgone + sanctions_llr * packages


# ---------------------------------------------------------------------------------------------
# Talks: willingness (logit choice) and stage transitions
# ---------------------------------------------------------------------------------------------


def dprk_talk_utility(base, stress, trust_us, threat, progress, pressure_first,
                      stress_weight, trust_weight, threat_weight, progress_weight, precondition_cost):
    """DPRK utility of talking rather than not:
    ``U = u0 + w_E * E + w_mu * mu_DPRK->US - w_T * T + w_G * G - c_pre * [pressure_first]``.
    Stress pushes toward talks (pressure works), threat away (spiral, Jervis 1976); a completed
    programme makes talking safer (Kim's 2018 offer followed the declared completion); talks
    that require concessions first cost more (seed: "a bridge too far")."""
    return (
        base
        + stress_weight * stress
        + trust_weight * trust_us
        - threat_weight * threat
        + progress_weight * progress
        - precondition_cost * pressure_first
    )


def us_talk_utility(base, trust_dprk, pressure_first, trust_weight, pressure_first_penalty):
    """US utility of preliminary talks:
    ``V = v0 + v_mu * mu_US->DPRK - v_pf * [pressure_first]`` (seed: the previous position
    engaged only after real concessions; the new one talks without preconditions)."""
    return base + trust_weight * trust_dprk - pressure_first_penalty * pressure_first


def collapse_hazard(base, tests, exercise, per_test, per_exercise):
    """Weekly hazard that talks in progress collapse:
    ``h = h0 + h_N * N + h_x * x`` (seed: a test "would halt the diplomatic progress in its
    tracks"; record: the DPRK cancelled May 2018 talks citing an air drill)."""
    return base + per_test * tests + per_exercise * exercise


def talks_rates(mediation, dprk_willing, us_willing, alignment_share, trust_dprk_us, trust_us_dprk,
                inter_korean_rate, direct_rate, us_dprk_rate, negotiation_rate):
    """Weekly rates of the talks transitions, as a tuple ``(r01, r02, r12, r23)``.

    * inter-Korean contact ``r01 = k_IK * m * W_D`` (seed: South Korea engages first);
    * direct US-DPRK talks ``r02 = k_dir * W_D * W_U * f_a``;
    * preliminary US-DPRK talks after contact ``r12 = k_US * W_D * W_U * f_a``
      ("potentially soon thereafter");
    * substantive negotiations ``r23 = k_neg * mu_DPRK->US * mu_US->DPRK * f_a``: a bargain
      needs each side to believe the other will keep it (Fearon 1995, Kydd 2005).

    ``W`` are logit willingness probabilities, ``f_a`` the alignment factor.
    """
    both = dprk_willing * us_willing * alignment_share
    return (
        inter_korean_rate * mediation * dprk_willing,
        direct_rate * both,
        us_dprk_rate * both,
        negotiation_rate * trust_dprk_us * trust_us_dprk * alignment_share,
    )


def next_talks_stage(stage, u_collapse, u_advance, collapse_rate, r01, r02, r12, r23):
    """Talks stage after a week, and whether talks collapsed this week.

    Stages: 0 none, 1 inter-Korean contact, 2 US-DPRK preliminary talks, 3 substantive
    negotiations (seed: "talks about talks" come first). From a stage >= 1 the talks collapse
    back to 0 when ``u_collapse < 1 - exp(-h)``; otherwise they advance when
    ``u_advance < 1 - exp(-r_out)``, ``r_out`` the total rate out of the stage. From 0 the
    destination is 1 or 2 in proportion to ``r01 : r02`` (competing risks, one uniform).
    Stage 3 does not advance further.
    """
    collapsed = (stage >= INTER_KOREAN) & (u_collapse < event_probability(collapse_rate))
    from_none = r01 + r02
    out_rate = where(
        stage == NO_TALKS, from_none,
        where(stage == INTER_KOREAN, r12, where(stage == PRELIMINARY, r23, 0.0)),
    )
    p_advance = event_probability(out_rate)
    share_01 = where(from_none > 0, r01 / where(from_none > 0, from_none, 1.0), 0.0)
    first_step = where(u_advance < p_advance * share_01, INTER_KOREAN, PRELIMINARY)
    target = where(stage == NO_TALKS, first_step, np.minimum(stage + 1, NEGOTIATIONS))
    advanced = np.logical_not(collapsed) & (u_advance < p_advance)
    new_stage = where(collapsed, NO_TALKS, where(advanced, target, stage))
    return new_stage, collapsed
