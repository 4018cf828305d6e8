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

RUNGS = 5
"""Escalation ladder (Kahn 1965): 1 short-range and rocket artillery, 2 intermediate-range,
3 submarine-launched and space launch, 4 ICBM, 5 nuclear test."""

# Talks stages: none, inter-Korean contact, US-DPRK preliminary talks, summit-level negotiation
# (suspended, 4, is SUSPENDED_TALKS below).
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
    Python's ``float ** int`` is a fourth. numpy picks the scalar-exponent path whenever the
    loop steps through the exponent with stride 0, which a single-element array (a broadcast
    view, or one element of a broadcast of size-1 axes) can have whatever its shape. Here both
    arguments are always fresh one-dimensional float arrays of the broadcast size (one element
    for scalars), so the SIMD kernel is taken and the Mesa engine (scalars) and the batched
    engine (arrays of one run or many, with parameters shared as scalars or given per run) get
    the same bits.
    """
    shape = np.broadcast_shapes(np.shape(base), np.shape(exponent))
    flat_base, flat_exponent = (np.array(np.broadcast_to(x, shape).ravel(), dtype=float) for x in (base, exponent))
    return np.power(flat_base, flat_exponent).reshape(shape)[()]


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
    choice: ``P = 1 / (1 + exp(-lambda * U))`` (Signorino 1999), ``U`` the utility difference.
    A very negative ``lambda * U`` overflows ``exp`` to inf, which gives exactly 0: the
    overflow is the right answer, so it is not warned about."""
    with np.errstate(over="ignore"):
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


# ---------------------------------------------------------------------------------------------
# DPRK: testing as a self-exciting (Hawkes) process on an escalation ladder
# ---------------------------------------------------------------------------------------------


def baseline_test_rate(mu0, threat, reactance_level, progress, threat_weight, reactance_weight, progress_weight):
    """Baseline test rate ``mu(t)`` (tests per week) before self-excitation and the moratorium.

    ``mu(t) = mu0 * exp(w_T*T + w_R*R - w_G*G_strat)``: exercises and sanctions enter through the
    baseline, not as hard-coded triggers (Hess 2018); a completed strategic programme lowers the
    need to test (F3). Talks have no term of their own: they lower testing through the
    moratorium the DPRK chooses (:func:`test_hazard`) and the red-line cost of a rung.
    """
    exponent = threat_weight * threat + reactance_weight * reactance_level - progress_weight * progress
    # capped below exp's overflow, so a zero rate stays zero (0 * inf would be NaN) and any
    # other rate is far above RATE_CAP, which poisson_count reads it as
    return mu0 * np.exp(np.minimum(exponent, EXPONENT_CAP))


def hawkes_decay_and_jump(ratio, beta):
    """Weekly decay factor and jump per test of the discretised Hawkes kernel.

    The continuous kernel ``alpha * exp(-beta * t)`` integrated over each week after a test
    gives ``n * (1 - e^-beta) * e^(-beta*(k-1))`` in week ``k``, ``n = alpha/beta`` the branching
    ratio (the parameter, so that any value in its range keeps the process stationary), so
    ``decay = e^-beta`` and ``jump = n * (1 - e^-beta)``. The jumps sum to ``n`` exactly, so the
    long-run rate is ``mu / (1 - n)`` as in continuous time (Hawkes 1971).
    """
    decay = np.exp(-beta)
    return decay, ratio * (1.0 - decay)


def self_excitation(excitation, tests, ratio, beta):
    """Self-excitation after a week: ``H' = e^-beta * H + n (1 - e^-beta) * N``, ``n = alpha/beta``
    the branching ratio (one per testing track, ``N`` that track's tests).

    ``lambda(t) = mu(t) + sum_i alpha * exp(-beta * (t - t_i))`` summed over past tests
    (Hawkes 1971; Hess 2018: the best predictor of a provocation is a recent provocation).
    """
    decay, jump = hawkes_decay_and_jump(ratio, beta)
    return decay * excitation + jump * tests


def track_excitation(excitation_sub, excitation_strat, tests, major, ratio, beta):
    """Both tracks' self-excitation after a week (:func:`self_excitation`): the week's tests excite
    the strategic track when they were strategic (``major``), the sub-strategic one otherwise.
    Returns ``(H_sub', H_strat')``."""
    major = np.asarray(major, dtype=bool)
    tests = np.asarray(tests)
    return (
        self_excitation(excitation_sub, where(major, 0, tests), ratio, beta),
        self_excitation(excitation_strat, where(major, tests, 0), ratio, beta),
    )


EXPONENT_CAP = 700.0
"""Exponents of the baseline test rate are capped here (``exp(700)`` is about ``1e304``, finite)."""

RATE_CAP = 1e6
"""Weekly Poisson rates are capped here in :func:`poisson_count` (far above any count it returns)."""


def poisson_count(rate, u, max_count: int = MAX_TESTS_PER_WEEK):
    """Number of events in a week with Poisson mean ``rate``, by inverse CDF from one uniform ``u``.

    ``N = #{k < max_count : u > F(k)}`` with ``F`` the Poisson CDF; one uniform per draw keeps
    the random numbers aligned across runs (common random numbers). Rates above
    :data:`RATE_CAP` (the hazard of extreme parameter draws may overflow to inf) count as the
    cap, which gives ``max_count`` as the rate itself would: ``inf * 0`` would give NaN.
    """
    rate = np.minimum(np.asarray(rate, dtype=float), RATE_CAP)
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


def dprk_talk_utility(
    base,
    stress,
    trust_us,
    threat,
    progress,
    pressure_first,
    stress_weight,
    trust_weight,
    threat_weight,
    progress_weight,
    precondition_cost,
    memory=0.0,
    memory_weight=0.0,
    expected=0.0,
    expectation_weight=0.0,
):
    """DPRK utility of talking rather than not:
    ``U = u0 + w_E * E + w_mu * mu_DPRK->US - w_T * T + w_G * G - c_pre * [pressure_first] - w_M * M
    + w_rel * E_rel``.
    Stress pushes toward talks (pressure works), threat away (spiral, Jervis 1976); a completed
    programme makes talking safer (Kim's 2018 offer followed the declared completion); talks
    that require concessions first cost more (seed: "a bridge too far"); the memory ``M`` of
    failed summits and collapsed talks (:func:`talks_memory`) keeps the DPRK away for years
    (record, 2009-2012); talks are worth the relief ``E_rel`` the DPRK expects them to bring
    (Fearon 1995: it bargains for what the other side's rule can give)."""
    return (
        base
        + stress_weight * stress
        + trust_weight * trust_us
        - threat_weight * threat
        + progress_weight * progress
        - precondition_cost * pressure_first
        - memory_weight * memory
        + expectation_weight * expected
    )


def us_talk_utility(base, trust_dprk, pressure_first, trust_weight, pressure_first_penalty):
    """US utility of preliminary talks:
    ``V = v0 + v_mu * mu_US->DPRK - v_pf * [pressure_first]`` (seed: the previous position
    engaged only after real concessions; the new one talks without preconditions)."""
    return base + trust_weight * trust_dprk - pressure_first_penalty * pressure_first


def talks_rates(mediation, dprk_willing, us_willing, alignment_share, inter_korean_rate, direct_rate, us_dprk_rate):
    """Weekly rates of the talks openings, as a tuple ``(r01, r02, r12)``.

    * inter-Korean contact ``r01 = k_IK * m * W_D`` (seed: South Korea engages first);
    * direct US-DPRK talks ``r02 = k_dir * W_D * W_U * f_a``;
    * preliminary US-DPRK talks after contact ``r12 = k_US * W_D * W_U * f_a``
      ("potentially soon thereafter").

    ``W`` are logit willingness probabilities, ``f_a`` the alignment factor. Summit-level
    negotiation is reached through a summit that ends in a deal (:func:`summit_deal`).
    """
    both = dprk_willing * us_willing * alignment_share
    return inter_korean_rate * mediation * dprk_willing, direct_rate * both, us_dprk_rate * both


# =============================================================================================
# Version 2: something to bargain over (issue 14)
# =============================================================================================
#
# Five rungs, development progress per rung, rung chosen against its cost; talks stages with a
# suspended stage and no absorbing stage; summits that end in a deal or fail; DPRK steps and US
# relief by rule; a moratorium the DPRK chooses and that erodes; trust that depreciates toward a
# prior and moves on costly signals; a China that acts. Powers are ``np.power`` (never ``**``):
# the ``**`` operator on numpy scalars rounds differently from ``np.power`` on arrays, and both
# engines must agree bit for bit. Sums over rungs are written out rung by rung (no reductions),
# so a run's arithmetic does not depend on the shape of the array that holds it.

ICBM_RUNG, NUCLEAR_RUNG = 4, 5
STRATEGIC_RUNGS = (4, 5)
"""Rungs of the strategic programme whose completion the DPRK declared in November 2017."""

SUSPENDED_TALKS = 4
"""Talks stage 4: suspended (version 2). Stage 3 is summit-level negotiation."""

FULL_DENUCLEARISATION = 4
"""DPRK steps: 1 declared test moratorium, 2 test-site closure, 3 partial dismantlement,
4 full denuclearisation."""

SUMMIT_NONE, SUMMIT_DEAL, SUMMIT_FAILED, SUMMIT_STATEMENT = 0, 1, 2, 3
"""Codes of the week's summit (the weekly ``summit`` series): none, ended in a deal, failed,
ended in a statement of principles without verified steps."""

# Forced talks events of a historical scenario's lever schedule (``forced_event``).
(
    EVENT_NONE,
    EVENT_CONTACT,
    EVENT_TALKS,
    EVENT_SUMMIT,
    EVENT_SUMMIT_DEAL,
    EVENT_SUMMIT_NO_DEAL,
    EVENT_SUSPENDED,
    EVENT_RESUMED,
    EVENT_ENDED,
    EVENT_SUMMIT_STATEMENT,
    EVENT_SUMMIT_FAILED,
) = range(11)


def talks_under_way(stage):
    """Whether talks are under way: stage 1 (inter-Korean contact), 2 or 3 -- not 0 or 4 (suspended)."""
    stage = np.asarray(stage)
    return ((stage >= INTER_KOREAN) & (stage <= NEGOTIATIONS))[()]


def talks_open(stage):
    """Whether talks exist at all: under way (stages 1-3) or suspended (4), not ended (0). A
    strategic test would end talks that are only suspended as surely as talks under way."""
    return (np.asarray(stage) != NO_TALKS)[()]


def talks_at_us_level(stage):
    """Whether US-DPRK talks are under way: stage 2 (preliminary) or 3 (summit-level)."""
    stage = np.asarray(stage)
    return ((stage == PRELIMINARY) | (stage == NEGOTIATIONS))[()]


def talks_reached(stage, level):
    """Whether talks are at ``level`` or beyond and not suspended: ``level <= stage <= 3``
    (stage 4, suspended, is not "beyond" any stage: it can follow contact alone)."""
    stage = np.asarray(stage)
    return ((stage >= level) & (stage <= NEGOTIATIONS))[()]


def _last_axis(x):
    """``x`` with a trailing axis of length 1, to broadcast a per-run value against per-rung arrays."""
    return np.asarray(x)[..., None]


def rung_progress(progress, tests, rung, per_test):
    """Development progress per rung after ``N`` tests at rung ``r``.

    ``G_r' = 1 - (1 - G_r) * (1 - g)^N`` for the rung tested, other rungs unchanged: each test
    closes a share ``g`` of the gap to a completed capability at its own rung, so progress at one
    rung says nothing about another (SLBMs and ICBMs are developed separately). ``progress`` has
    the rungs on its last axis (length :data:`RUNGS`).
    """
    progress = np.asarray(progress, dtype=float)
    gap_kept = power(1.0 - _last_axis(per_test), _last_axis(tests).astype(float))
    tested = (np.arange(1, RUNGS + 1) == _last_axis(rung)) & (_last_axis(tests) > 0)
    return np.where(tested, 1.0 - (1.0 - progress) * gap_kept, progress)


def strategic_progress(progress):
    """Mean development progress over the strategic rungs 4 (ICBM) and 5 (nuclear):
    ``G_strat = (G_4 + G_5) / 2`` -- the programme whose completion was declared in Nov 2017."""
    progress = np.asarray(progress, dtype=float)
    return ((progress[..., ICBM_RUNG - 1] + progress[..., NUCLEAR_RUNG - 1]) / 2.0)[()]


def rung_utilities(progress, last_rung, in_talks, development_weight, distance_cost, red_line_cost, talks_multiplier):
    """Utility of testing at each rung (last axis, rungs 1-5) in a test week.

    ``U_r = w_dev * (1 - G_r) - w_step * |r - r_last| - c_red * [r >= 4] * (1 + c_talks * [talks])``:
    a rung still under development is worth testing; moving far up or down the ladder at once
    costs more (Kahn 1965: mostly one rung at a time); an ICBM or nuclear test crosses a declared
    red line and costs more, much more when it would end talks in progress. A first test ever
    (``r_last = 0``) measures the distance from rung 1.
    """
    progress = np.asarray(progress, dtype=float)
    rungs = np.arange(1, RUNGS + 1)
    last = np.maximum(_last_axis(last_rung), 1)
    red = (rungs >= ICBM_RUNG) * (1.0 + _last_axis(talks_multiplier) * _last_axis(in_talks))
    return (
        _last_axis(development_weight) * (1.0 - progress)
        - _last_axis(distance_cost) * np.abs(rungs - last)
        - _last_axis(red_line_cost) * red
    )


def inverse_cdf(weights, u):
    """The category (0-based) one uniform ``u`` draws from unnormalised ``weights`` (a list, one
    entry per category, each a scalar or an array over runs): ``#{k < n - 1 : u * W > w_0 + ... +
    w_k}`` with ``W`` their sum. Written category by category (no reductions), so a run's
    arithmetic does not depend on the shape of the array that holds it."""
    total = weights[0]
    for w in weights[1:]:
        total = total + w
    target = np.asarray(u, dtype=float) * total
    chosen = np.zeros(np.shape(target), dtype=np.int64)
    cumulative = weights[0]
    for w in weights[1:]:
        chosen = chosen + (target > cumulative)
        cumulative = cumulative + w
    return chosen[()]


def rung_weights(
    progress, last_rung, in_talks, precision, development_weight, distance_cost, red_line_cost, talks_multiplier
):
    """Logit weights of the five rungs, as a list ``[W_1, ..., W_5]``: ``W_r = exp(lambda * (U_r - max U))``
    with ``U_r`` from :func:`rung_utilities` (multinomial logit, Signorino 1999; shifted by the
    largest utility so the largest weight is 1). Written rung by rung (no reductions), so a run's
    arithmetic does not depend on the shape of the array that holds it."""
    utility = rung_utilities(
        progress, last_rung, in_talks, development_weight, distance_cost, red_line_cost, talks_multiplier
    )
    top = utility[..., 0]
    for r in range(1, RUNGS):
        top = np.maximum(top, utility[..., r])
    # one exp over the whole (..., 5) array, for one run as for many: numpy's exp rounds a scalar
    # (or 0-d array) and an array differently in the last bit, and these weights set the hazard
    weights = np.exp(_last_axis(np.asarray(precision, dtype=float)) * (utility - _last_axis(top)))
    return [weights[..., r] for r in range(RUNGS)]


def track_factors(moratorium, moratorium_weight, in_talks, talks_weight):
    """How the two testing tracks are held back this week, as ``(f_sub, f_strat)``.

    Sub-strategic launches (rungs 1-3: short-range, intermediate, SLBM and space) are lowered while
    talks are under way, ``f_sub = exp(-w_talks * [talks])``; a declared moratorium covers what it
    names, strategic tests only (rungs 4-5: ICBM and nuclear), ``f_strat = exp(-w_M * [moratorium])``
    (record: the 20 April 2018 halt named nuclear tests and ICBM launches, the Leap Day deal nuclear
    tests and long-range launches; short-range launches came around talks, four Scuds on 27 Feb
    2014 days after inter-Korean high-level talks)."""
    f_sub = np.exp(-talks_weight * np.asarray(in_talks, dtype=float))
    f_strat = np.exp(-moratorium_weight * np.asarray(moratorium, dtype=float))
    return f_sub, f_strat


def track_hazards(baseline, excitation_sub, excitation_strat, weights, f_sub, f_strat):
    """Weekly hazards of the two testing tracks, ``(h_sub, h_strat)``.

    The baseline ``mu`` is split between the tracks by the rungs' logit weights ``W_r``
    (:func:`rung_weights`), and each track excites itself (a launch makes launches likelier, a
    strategic test strategic tests; Hess 2018): ``h_sub = (mu * (W_1 + W_2 + W_3) / W + H_sub) * f_sub``
    and ``h_strat = (mu * (W_4 + W_5) / W + H_strat) * f_strat``, each held back only by its own
    factor (:func:`track_factors`).
    """
    total = weights[0]
    for w in weights[1:]:
        total = total + w
    sub = weights[0] + weights[1] + weights[2]
    strat = weights[3] + weights[4]
    # a baseline that overflowed (extreme parameters) counts as RATE_CAP, as poisson_count reads
    # any rate above it: inf times a track share of 0 would be NaN
    rate = np.minimum(baseline, RATE_CAP)
    return (rate * (sub / total) + excitation_sub) * f_sub, (rate * (strat / total) + excitation_strat) * f_strat


def choose_rung(weights, h_sub, h_strat, tests, u, last_rung):
    """Rung of this week's tests, drawn by inverse CDF from one uniform ``u`` over the two tracks.

    The track by its share of the week's hazard (:func:`track_hazards`), the rung within it by the
    rung logit: ``P(r) = h_track(r) / (h_sub + h_strat) * W_r / W_track(r)`` (the thinning of two
    Poisson processes); ``r = 1 + #{k < 5 : u * sum > V_1 + ... + V_k}``. Weeks without tests keep
    the last rung.
    """
    sub = weights[0] + weights[1] + weights[2]
    strat = weights[3] + weights[4]
    sub_safe, strat_safe = where(sub > 0, sub, 1.0), where(strat > 0, strat, 1.0)
    # each rung's share of its track (in [0, 1]) times the track's hazard: nothing overflows,
    # however small a track's weights are
    scaled = [
        (h_sub * (weights[r] / sub_safe)) if r < ICBM_RUNG - 1 else (h_strat * (weights[r] / strat_safe))
        for r in range(RUNGS)
    ]
    return where(np.asarray(tests) > 0, 1 + inverse_cdf(scaled, u), last_rung)


def major_test(tests, rung):
    """Whether the week had a test at the ICBM rung or above: ``N > 0 & r >= 4``."""
    return (np.asarray(tests) > 0) & (np.asarray(rung) >= ICBM_RUNG)


def china_test_memory(memory, tests, rung, decay):
    """China's memory of recent major tests: ``X' = (1 - d) * X + N * [r >= 4]``."""
    return (1.0 - decay) * memory + np.asarray(tests) * major_test(tests, rung)


def china_enforcement(
    base, trust, initial_trust, sensitivity, test_response, memory, talks_relief, in_talks, relief_follow, relief
):
    """Share of sanctioned trade China enforces, responding to what it observes.

    ``c = clip(c0 + k_mu * (mu0 - mu_C) + k_X * X - k_T * [talks] - k_rel * relief, 0, 1)``: more
    after major tests (record: coal imports suspended after the Feb 2017 test), less while talks
    are under way (Kim-Xi meetings, March-June 2018) and as the US itself grants relief.
    """
    level = (
        base
        + sensitivity * (initial_trust - trust)
        + test_response * memory
        - talks_relief * np.asarray(in_talks, dtype=float)
        - relief_follow * relief
    )
    return np.minimum(np.maximum(level, 0.0), 1.0)


def depreciate_trust(trust, prior, rate):
    """Trust after a week's depreciation toward a prior: ``mu' = mu + d * (prior - mu)`` -- the
    other side's type may have changed, so old evidence counts for less (Kydd 2005)."""
    return trust + rate * (prior - trust)


def step_signal(step_taken, signal_llr):
    """Log likelihood ratio (greedy : secure) of a DPRK step ``k`` taken this week (0: none):
    ``llr = -signal_step_llr * k`` -- a costlier step is a more telling costly signal (Kydd 2005)."""
    return -signal_llr * np.asarray(step_taken, dtype=float)


def relief_signal(relief_before, relief_after, signal_llr):
    """Log likelihood ratio (hostile : benign) of relief granted this week, as the DPRK reads it:
    ``llr = -signal_relief_llr * max(relief' - relief, 0)`` (Osgood's GRIT: a unilateral costly
    concession)."""
    return -signal_llr * np.maximum(relief_after - relief_before, 0.0)


def reactance(level, packages, decay, per_package, trust_us, in_talks, spoiler_per_package):
    """Reactance to new sanctions, scaled by distrust (Jervis 1976's spiral):
    ``R' = (1 - decay) * R + k * (1 - mu_DPRK->US) * packages`` with ``k = per_package`` outside
    talks and ``k = spoiler_per_package`` while talks are under way -- pressure provokes a DPRK
    that distrusts the US. A package during talks is a spoiler whose effect on testing is its own
    parameter: the one in the record (Max Thunder, May 2018) cancelled a meeting and drew no test."""
    per = where(np.asarray(in_talks, dtype=bool), spoiler_per_package, per_package)
    return (1.0 - decay) * level + per * (1.0 - trust_us) * packages


def talks_memory(memory, failed, stage_before, remembered_before, stage_after, decay):
    """The DPRK's memory of failed summits and collapsed talks, decaying slowly:
    ``M' = (1 - d) * M + [failed summit] + [US-DPRK talks ended] + [a deal collapsed]``.

    US-DPRK talks end when talks at stage 2 or 3 (or suspended from them) reach stage 0; a deal
    collapses when the talks that end are summit-level (stage 3, reached only through a deal), so a
    collapsed deal counts twice. The record (2009-2018): after the April 2009 launch ended the
    Six-Party talks and after the Leap Day deal collapsed in April 2012, years without US-DPRK
    negotiation, whatever openness Washington stated.
    """
    before = np.asarray(stage_before)
    remembered = np.asarray(remembered_before)
    level = where(before == SUSPENDED_TALKS, remembered, before)
    ended = (before != NO_TALKS) & (np.asarray(stage_after) == NO_TALKS)
    us_level = ended & ((level == PRELIMINARY) | (level == NEGOTIATIONS))
    collapsed = ended & (level == NEGOTIATIONS)
    events = np.asarray(failed, dtype=float) + us_level.astype(float) + collapsed.astype(float)
    return (1.0 - decay) * memory + events


def talks_refused(stage, us_utility, dprk_utility):
    """Whether the US stands ready to talk and the DPRK refuses, in a week without US-DPRK talks:
    ``[stage not 2 or 3] & [V > 0] & [U <= 0]``, ``V``/``U`` the two sides' utilities of talking
    (:func:`us_talk_utility`, :func:`dprk_talk_utility`); the seed's "ready to talk" is an offer
    the other side can decline."""
    stage = np.asarray(stage)
    out = (
        (stage != PRELIMINARY)
        & (stage != NEGOTIATIONS)
        & (np.asarray(us_utility) > 0)
        & (np.asarray(dprk_utility) <= 0)
    )
    return out[()]


# ---- steps and relief (Fearon 1995; Powell 2006; the seed) ----------------------------------


def step_cost(step, theta, scale):
    """DPRK's private cost of step ``k``: ``cost_k = theta * scale * k^2`` -- increasing and convex
    (a moratorium is cheap, full denuclearisation dear); ``theta`` is drawn once per run and known
    only to the DPRK."""
    k = np.asarray(step, dtype=float)
    return theta * scale * (k * k)


def draw_step_cost_multiplier(u, low_share, high):
    """The DPRK's private cost multiplier of a run: uniform on ``[low, high]`` with
    ``low = low_share * high`` (a share, so any value in its range gives a valid interval):
    ``theta = low + u * (high - low)``."""
    low = low_share * high
    return low + u * (high - low)


def relief_granted(step, threshold, all_at_end, per_step):
    """Relief (share of sanctions and exercises lifted) the US grants by rule for standing step ``k``.

    Step-for-step: ``min(1, per_step * (k - threshold + 1))`` once ``k >= threshold``, else 0;
    all at the end: 1 at full denuclearisation (``k = 4``), else 0. The seed: "no pressure comes
    off until they are actually doing something that the alliance believes represents a
    meaningful step toward denuclearization"; ``threshold`` says what counts as meaningful.
    """
    step = np.asarray(step)
    phased = where(step >= threshold, np.minimum(1.0, per_step * (step - threshold + 1).astype(float)), 0.0)
    return where(np.asarray(all_at_end) > 0, where(step >= FULL_DENUCLEARISATION, 1.0, 0.0), phased)


def current_relief(step, snapped_back, threshold, all_at_end, per_step):
    """Relief in force: :func:`relief_granted` unless a major test snapped it back (then 0 until a
    further step is taken)."""
    return where(snapped_back, 0.0, relief_granted(step, threshold, all_at_end, per_step))


def relief_needed_step(threshold, all_at_end):
    """Lowest step for which the rule grants any relief: the threshold, or 4 under all-at-the-end."""
    return where(np.asarray(all_at_end) > 0, FULL_DENUCLEARISATION, threshold)


def relief_value(relief, stress, relief_weight, stress_weight):
    """What relief is worth to the DPRK: ``(w_rel + w_E * E) * relief``. Economic stress raises
    the value of relief because it is the cost of no deal, the DPRK's reservation value (Fearon
    1995): a squeezed economy gains more from each unit of sanctions lifted."""
    return (relief_weight + stress_weight * stress) * relief


def step_utility(
    step,
    expected,
    stress,
    trust_us,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
    trust_weight,
):
    """DPRK utility of taking step ``k`` now:
    ``U_k = (w_rel + w_E * E) * relief(k) + w_exp * E_rel + w_mu * mu_DPRK->US - cost_k``
    (Fearon 1995: a step is worth its price in relief, valued against the cost of no deal
    (:func:`relief_value`), and in the relief ``E_rel`` the DPRK expects from talks)."""
    relief = relief_granted(step, threshold, all_at_end, per_step)
    return (
        relief_value(relief, stress, relief_weight, stress_weight)
        + expectation_weight * expected
        + trust_weight * trust_us
        - step_cost(step, theta, cost_scale)
    )


def next_step(
    step,
    u,
    eligible,
    rate,
    precision,
    expected,
    stress,
    trust_us,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
    trust_weight,
):
    """The DPRK's step after a week, and the step taken this week (0: none).

    While ``eligible`` (talks at stage 2 or 3, a moratorium already declared, ``k < 4``), the next
    step ``k = step + 1`` is taken when ``u < rate * logit(lambda * U_k)`` (:func:`step_utility`).
    """
    k = np.minimum(np.asarray(step) + 1, FULL_DENUCLEARISATION)
    utility = step_utility(
        k,
        expected,
        stress,
        trust_us,
        theta,
        threshold,
        all_at_end,
        per_step,
        cost_scale,
        relief_weight,
        stress_weight,
        expectation_weight,
        trust_weight,
    )
    take = (
        eligible
        & (np.asarray(step) >= 1)
        & (np.asarray(step) < FULL_DENUCLEARISATION)
        & (u < rate * logit_choice(utility, precision))
    )
    return where(take, k, step), where(take, k, 0)


def moratorium_utility(base, expected, strategic, trust_us, expectation_weight, progress_weight, trust_weight):
    """DPRK utility of declaring a test moratorium:
    ``U_m = m0 + w_E * E + w_G * G_strat + w_mu * mu_DPRK->US`` -- a completed programme makes a
    halt cheap (Kim's 20 April 2018 halt followed the declared completion; record)."""
    return base + expectation_weight * expected + progress_weight * strategic + trust_weight * trust_us


def moratorium_break_hazard(expected, patience, rate, precision):
    """Weekly hazard that a moratorium breaks: ``rate * logit(lambda * (patience - E))`` -- a halt
    kept for relief that does not come erodes as the expected relief ``E`` falls below patience."""
    return rate * logit_choice(patience - expected, precision)


def next_moratorium(moratorium, u, in_talks, declare_probability, break_hazard, major):
    """Moratorium after a week and whether it was declared / broken this week.

    Declared while talks are under way with probability ``declare_probability`` (one uniform);
    a standing one breaks at ``break_hazard`` (same uniform, exclusive cases) or at a major test.
    Returns ``(moratorium', declared, broken)``.
    """
    moratorium = np.asarray(moratorium, dtype=bool)
    declared = ~moratorium & np.asarray(in_talks, dtype=bool) & (u < declare_probability) & ~np.asarray(major)
    broken = moratorium & ((u < event_probability(break_hazard)) | np.asarray(major))
    return (moratorium | declared) & ~broken, declared, broken


def step_after_moratorium(step, declared, broken, step_taken):
    """Standing step after the moratorium decision: a declaration is step 1 (``max(step, 1)``); a
    broken moratorium takes back step 1 but not steps 2-4 (irreversible, Powell 2006); a step
    taken (>= 2) declares or keeps the moratorium (handled by the caller)."""
    step = np.asarray(step)
    step = where(declared, np.maximum(step, 1), step)
    return where(broken & (step == 1) & (np.asarray(step_taken) == 0), 0, step)


def expected_relief(expected, relief, summit, failed, learning, summit_expectation, failure_cut):
    """DPRK's expected relief after a week.

    A summit raises it (``E' = max(E, E_summit)``), a failed one cuts it (``E' = E * (1 - cut)``),
    otherwise it adapts to the relief actually granted (``E' = E + eta * (relief - E)``,
    adaptive expectations: a year or so to learn that talks deliver nothing).
    """
    adapted = expected + learning * (relief - expected)
    return where(
        failed, expected * (1.0 - failure_cut), where(summit, np.maximum(expected, summit_expectation), adapted)
    )


# ---- summits (Fearon 1995; Kydd 2005) --------------------------------------------------------


def offer_utility(
    k,
    step,
    expected,
    stress,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
):
    """DPRK utility of offering step ``k`` at a summit, against offering nothing beyond its standing
    step ``s``: ``V_k = (w_rel + w_E * E) * relief(k) + w_exp * E_rel * [k > s] - cost_k`` for
    ``k >= s``, with ``theta`` (in ``cost_k``) its private cost multiplier (Fearon 1995: the offer
    weighs the relief the rule grants, valued against the cost of no deal, against a cost only
    the DPRK knows)."""
    relief = relief_granted(k, threshold, all_at_end, per_step)
    more = (np.asarray(k) > np.asarray(step)).astype(float)
    return (
        relief_value(relief, stress, relief_weight, stress_weight)
        + expectation_weight * expected * more
        - step_cost(k, theta, cost_scale)
    )


def choose_offer(
    step,
    u,
    precision,
    expected,
    stress,
    theta,
    threshold,
    all_at_end,
    per_step,
    cost_scale,
    relief_weight,
    stress_weight,
    expectation_weight,
):
    """The step ``k`` (from the standing step ``s`` to 4) the DPRK offers at a summit, a logit choice
    over :func:`offer_utility` drawn by inverse CDF from one uniform ``u``:
    ``P(k) = exp(lambda * V_k) / sum_{j >= s} exp(lambda * V_j)``. Every step at or above the
    standing one has positive probability, so P(deal) moves smoothly with the levers (no hard
    threshold that leaves zero mass; quantal response, Signorino 1999)."""
    step = np.asarray(step)
    values = [
        offer_utility(
            k,
            step,
            expected,
            stress,
            theta,
            threshold,
            all_at_end,
            per_step,
            cost_scale,
            relief_weight,
            stress_weight,
            expectation_weight,
        )
        for k in range(FULL_DENUCLEARISATION + 1)
    ]
    allowed = [step <= k for k in range(FULL_DENUCLEARISATION + 1)]
    top = where(allowed[FULL_DENUCLEARISATION], values[FULL_DENUCLEARISATION], -np.inf)
    for k in range(FULL_DENUCLEARISATION):
        top = np.maximum(top, where(allowed[k], values[k], -np.inf))
    precision = np.asarray(precision, dtype=float)
    # one exp over a (..., 5) array for one run as for many (see rung_weights)
    exponent = np.stack(
        np.broadcast_arrays(*[precision * np.minimum(values[k] - top, 0.0) for k in range(FULL_DENUCLEARISATION + 1)]),
        axis=-1,
    )
    powers = np.exp(exponent)
    weights = [where(allowed[k], powers[..., k], 0.0) for k in range(FULL_DENUCLEARISATION + 1)]
    offer = inverse_cdf(weights, u)
    return where(offer < step, step, offer)  # u = 0 exactly would land on a step below the standing one


def summit_outcome(
    offer,
    needed,
    u,
    precision,
    trust_us_dprk,
    trust_dprk_us,
    trust_weight,
    trust_threshold,
    statement_base,
    gap_cost,
    forced,
):
    """How a summit ends: :data:`SUMMIT_DEAL`, :data:`SUMMIT_STATEMENT` or :data:`SUMMIT_FAILED`,
    drawn from one uniform ``u``.

    * A deal needs an offer that meets the step the rule needs for any relief (``needed``,
      :func:`relief_needed_step`) and both sides' acceptance, a logit on their trust (Kydd's
      assurance game, smoothed): ``P_deal = [k >= needed] * logit(lambda * w_mu * (min(mu_US,
      mu_DPRK) - mu*))``.
    * Otherwise a statement of principles without verified steps (talks go on at working level)
      with ``P = logit(lambda * (s0 - c_gap * max(needed - k, 0)))``: the further apart the
      positions, the likelier a breakdown (Fearon 1995; record: Singapore, 12 June 2018).
    * Otherwise the summit fails.

    ``forced`` is a historical scenario's outcome: -1 the model decides, -2 anything but a deal
    (the model decides between a statement and a failure), or a summit code.
    """
    offer = np.asarray(offer)
    forced = np.asarray(forced)
    precision = np.asarray(precision, dtype=float)
    trust = np.minimum(trust_us_dprk, trust_dprk_us)
    accept = logit_choice(trust_weight * (trust - trust_threshold), precision)
    p_deal = where((offer >= needed) & (forced == -1), accept, 0.0)
    gap = np.maximum(np.asarray(needed) - offer, 0).astype(float)
    p_statement = (1.0 - p_deal) * logit_choice(statement_base - gap_cost * gap, precision)
    u = np.asarray(u, dtype=float)
    drawn = where(u < p_deal, SUMMIT_DEAL, where(u < p_deal + p_statement, SUMMIT_STATEMENT, SUMMIT_FAILED))
    return where(forced >= 0, forced, drawn)


def summit_trust_signal(outcome, statement_llr, failure_llr):
    """Log likelihood ratio (greedy : secure) each side reads in a summit's outcome: a statement
    raises trust (``-statement_llr``: leaders who commit in public to principles pay a price if
    they walk away), a failure lowers it (``failure_llr``); a deal's steps and relief are read by
    :func:`step_signal` and :func:`relief_signal` (Kydd 2005)."""
    outcome = np.asarray(outcome)
    return where(outcome == SUMMIT_STATEMENT, -statement_llr, where(outcome == SUMMIT_FAILED, failure_llr, 0.0))


# ---- talks stages without an absorbing stage ------------------------------------------------


def suspension_hazard(base, packages, held, tests, rung, per_package, per_exercise, per_test):
    """Weekly hazard that talks in progress are suspended by a spoiler:
    ``h_s = h0 + h_pkg * packages + h_x * x_held + h_N * N * [r <= 3]`` (record: the DPRK cancelled
    the 16 May 2018 talks citing Max Thunder; seed: a "toughest ever" package may torpedo the
    opening). Tests at the ICBM rung or above end talks outright."""
    minor = np.asarray(tests) * (np.asarray(rung) <= ICBM_RUNG - 1)
    return base + per_package * packages + per_exercise * held + per_test * minor


def summit_hazard(rate, dprk_willing, us_willing, weeks_since, spacing):
    """Weekly hazard of a summit from US-DPRK talks: ``k_S * W_D * W_U * min(1, t / t_S)``, with
    ``t`` the weeks since the last summit: a summit takes months to prepare, so a second one comes
    no sooner than the first did (record 2018: one US-DPRK summit; inter-Korean summits 4 and 16
    weeks apart)."""
    return (
        rate
        * dprk_willing
        * us_willing
        * np.minimum(1.0, np.asarray(weeks_since, dtype=float) / np.maximum(spacing, 1.0))
    )


def weeks_since_summit_after(weeks, summit):
    """Weeks since the last summit after this week: 0 in a summit week, one more otherwise."""
    return where(summit, 0, np.asarray(weeks) + 1)


def idle_end_hazard(idle_weeks, rate, patience):
    """Weekly hazard that talks that deliver nothing wither: ``rate * min(1, idle / patience)``."""
    return rate * np.minimum(1.0, np.asarray(idle_weeks, dtype=float) / np.maximum(patience, 1.0))


def talks_transition(
    stage,
    remembered,
    u_exit,
    u_advance,
    major,
    suspend_rate,
    idle_rate,
    r01,
    r02,
    r12,
    summit_rate,
    resume_rate,
    end_rate,
):
    """Talks stage after a week, before any summit's outcome.

    Stages: 0 none, 1 inter-Korean contact, 2 US-DPRK preliminary talks, 3 summit-level
    negotiation, 4 suspended. In order: a major test ends talks in progress (-> 0); from 1-3 the
    exit hazards compete on ``u_exit`` (suspension -> 4 at ``h_s``, from 2-3 withering -> 0 at
    ``h_idle``); otherwise ``u_advance`` decides 0 -> 1 / 2 (competing, ``r01 : r02``), 1 -> 2,
    a summit from 2 or 3 (its outcome is decided by :func:`summit_deal`), and from 4 resumption
    to the remembered stage or the end of talks (competing, ``resume : end``).

    Returns ``(stage', remembered', summit, suspended, ended)``: ``summit`` is whether a summit
    is held this week; ``remembered`` is the stage talks were in when last suspended.
    """
    stage = np.asarray(stage)
    in_progress = (stage >= INTER_KOREAN) & (stage <= NEGOTIATIONS)
    prelim_or_summit = (stage == PRELIMINARY) | (stage == NEGOTIATIONS)
    idle = where(prelim_or_summit, idle_rate, 0.0)
    exit_rate = suspend_rate + idle
    p_exit = event_probability(exit_rate)
    share_suspend = where(exit_rate > 0, suspend_rate / where(exit_rate > 0, exit_rate, 1.0), 0.0)
    exits = in_progress & (u_exit < p_exit) & ~np.asarray(major)
    suspended = exits & (u_exit < p_exit * share_suspend)
    withered = exits & ~suspended
    ended_by_test = (stage >= INTER_KOREAN) & np.asarray(major)
    # advancing
    from_none = r01 + r02
    from_suspended = resume_rate + end_rate
    out_rate = where(
        stage == NO_TALKS,
        from_none,
        where(stage == INTER_KOREAN, r12, where(prelim_or_summit, summit_rate, from_suspended)),
    )
    p_move = event_probability(out_rate)
    moves = (u_advance < p_move) & ~exits & ~ended_by_test
    share_01 = where(from_none > 0, r01 / where(from_none > 0, from_none, 1.0), 0.0)
    share_resume = where(from_suspended > 0, resume_rate / where(from_suspended > 0, from_suspended, 1.0), 0.0)
    first = where(u_advance < p_move * share_01, INTER_KOREAN, PRELIMINARY)
    back = where(u_advance < p_move * share_resume, remembered, NO_TALKS)
    summit = moves & prelim_or_summit
    resumed_or_ended = moves & (stage == SUSPENDED_TALKS)
    target = where(
        stage == NO_TALKS,
        first,
        where(stage == INTER_KOREAN, PRELIMINARY, where(stage == SUSPENDED_TALKS, back, stage)),
    )
    new_stage = where(
        ended_by_test | withered, NO_TALKS, where(suspended, SUSPENDED_TALKS, where(moves & ~summit, target, stage))
    )
    ended = ended_by_test | withered | (resumed_or_ended & (new_stage == NO_TALKS))
    new_remembered = where(suspended, stage, remembered)
    return new_stage, new_remembered, summit, suspended, ended


def summit_result(stage, remembered, outcome):
    """Stage after a summit: 3 (summit-level negotiation) after a deal; the same stage after a
    statement (talks go on at working level); 4 (suspended, remembering the stage) after a
    failure. ``outcome`` is the week's summit code. Returns ``(stage', remembered', failed)``."""
    outcome = np.asarray(outcome)
    failed = outcome == SUMMIT_FAILED
    new_stage = where(outcome == SUMMIT_DEAL, NEGOTIATIONS, where(failed, SUSPENDED_TALKS, stage))
    return new_stage, where(failed, stage, remembered), failed[()]


def forced_event(stage, remembered, code):
    """Stage after a historical scenario's forced event (codes :data:`EVENT_NONE` ...).

    1 inter-Korean contact (starts contact unless talks are in progress); 2 US-DPRK talks
    (at least stage 2); 6 suspended (talks in progress); 7 resumed (suspended talks to the
    remembered stage; talks that had ended, or contact only, to US-DPRK talks at stage 2: the
    record says talks are under way again); 8 ended. Codes 3-5, 9 and 10 (summits: the model
    decides, a deal, no deal, a statement, a failure) are handled by the summit rules
    (:func:`summit_outcome`): they return ``summit`` and the forced outcome here.
    Returns ``(stage', remembered', summit_forced, outcome_forced)``, ``outcome_forced`` being -1
    (the model decides), -2 (anything but a deal: the model decides between a statement and a
    failure) or a summit code (:data:`SUMMIT_DEAL`, :data:`SUMMIT_STATEMENT`, :data:`SUMMIT_FAILED`).
    """
    stage = np.asarray(stage)
    code = np.asarray(code)
    in_progress = (stage >= INTER_KOREAN) & (stage <= NEGOTIATIONS)
    new = where(code == EVENT_CONTACT, where(in_progress, stage, INTER_KOREAN), stage)
    new = where(code == EVENT_TALKS, where((stage == PRELIMINARY) | (stage == NEGOTIATIONS), stage, PRELIMINARY), new)
    summit_codes = (
        (code == EVENT_SUMMIT)
        | (code == EVENT_SUMMIT_DEAL)
        | (code == EVENT_SUMMIT_NO_DEAL)
        | (code == EVENT_SUMMIT_STATEMENT)
        | (code == EVENT_SUMMIT_FAILED)
    )
    new = where(summit_codes & (stage != NEGOTIATIONS), PRELIMINARY, new)
    new = where((code == EVENT_SUSPENDED) & in_progress, SUSPENDED_TALKS, new)
    remembered = where((code == EVENT_SUSPENDED) & in_progress, stage, remembered)
    new = where(
        code == EVENT_RESUMED,
        where(stage == SUSPENDED_TALKS, remembered, where(stage < PRELIMINARY, PRELIMINARY, stage)),
        new,
    )
    new = where(code == EVENT_ENDED, NO_TALKS, new)
    outcome_forced = where(
        code == EVENT_SUMMIT_DEAL,
        SUMMIT_DEAL,
        where(
            code == EVENT_SUMMIT_STATEMENT,
            SUMMIT_STATEMENT,
            where(code == EVENT_SUMMIT_FAILED, SUMMIT_FAILED, where(code == EVENT_SUMMIT_NO_DEAL, -2, -1)),
        ),
    )
    return new, remembered, summit_codes, outcome_forced


def idle_weeks_after(idle, stage, summit, step_taken, relief_changed):
    """Weeks in stage 2 or 3 since the last summit, step or change of relief (0 outside 2-3)."""
    reset = np.asarray(summit) | (np.asarray(step_taken) > 0) | np.asarray(relief_changed)
    in_stage = (np.asarray(stage) == PRELIMINARY) | (np.asarray(stage) == NEGOTIATIONS)
    return where(in_stage & ~reset, np.asarray(idle) + 1, 0)
