"""The compiled path (model/compiled.py, model/kernel.py) against the numpy path (model/rules.py,
model/week.py): each compiled rule against its numpy rule, each engine on each backend against
the other engine on the same backend (bit for bit), and whole runs across backends (the same
events; continuous values within a few units in the last place)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_batched import lever_schedules, parameter_sets
from test_rules import _rule_arguments

from model import EscalationModel, Params, backend, compiled, rules
from model.batched import simulate
from model.outcomes import OUTCOME_COLUMNS
from model.week import SERIES

TRANSCENDENTAL = {
    # rules that call exp, expm1 or pow, whose last bit numpy's vectorised kernels and the C
    # library (which numba calls) may round differently
    "event_probability",
    "logit_choice",
    "escalate_sanctions",
    "baseline_test_rate",
    "self_excitation",
    "track_excitation",
    "update_trust",
    "track_factors",
    "moratorium_break_hazard",
}
ULPS = 4
"""The largest difference allowed between a compiled rule and its numpy rule, in units in the
last place (measured: at most 3, on 3,000 random argument sets per rule)."""


def _ulps(a, b) -> float:
    a, b = float(a), float(b)
    if a == b:
        return 0.0
    return abs(a - b) / np.spacing(max(abs(a), abs(b)))


def test_every_compiled_rule_computes_its_numpy_rule():
    n = 3000
    checked = set()
    for rule, args in _rule_arguments(np.random.default_rng(11), n):
        if rule.__name__ not in compiled.RULE_NAMES:
            continue
        checked.add(rule.__name__)
        mine = getattr(compiled.MESA_RULES, rule.__name__)
        on_arrays = rule(*args)
        expected = on_arrays if isinstance(on_arrays, tuple) else (on_arrays,)
        for i in range(n):
            got = mine(*[a[i] for a in args])
            got = got if isinstance(got, tuple) else (got,)
            for whole, single in zip(expected, got, strict=True):
                want = np.asarray(whole)[i]
                if rule.__name__ in TRANSCENDENTAL and np.issubdtype(want.dtype, np.floating):
                    assert _ulps(want, single) <= ULPS, (rule.__name__, i, want, single)
                else:
                    assert want == single, (rule.__name__, i, want, single)
    assert len(checked) >= 50, sorted(checked)


def test_the_per_rung_rules_compute_their_numpy_rules():
    rng = np.random.default_rng(5)
    for _ in range(2000):
        progress = rng.random(rules.RUNGS)
        last, talks, tests, rung = int(rng.integers(0, 6)), bool(rng.integers(0, 2)), int(rng.integers(0, 4)), 0
        weights = tuple(rules.rung_weights(progress, last, talks, 3.0, 1.5, 0.7, 2.0, 1.2))
        mine = compiled.MESA_RULES.rung_weights(progress, last, talks, 3.0, 1.5, 0.7, 2.0, 1.2)
        assert all(_ulps(a, b) <= ULPS for a, b in zip(weights, mine, strict=True))
        rung = int(rng.integers(1, 6))
        grown = rules.rung_progress(progress, tests, rung, 0.2)
        assert np.allclose(grown, compiled.MESA_RULES.rung_progress(progress, tests, rung, 0.2), rtol=0, atol=1e-15)
        assert compiled.MESA_RULES.strategic_progress(progress) == rules.strategic_progress(progress)
        h, u = rng.random(2), rng.random()
        assert compiled.MESA_RULES.choose_rung(weights, h[0], h[1], 1, u, last) == rules.choose_rung(
            weights, h[0], h[1], 1, u, last
        )
        offer_args = (int(rng.integers(0, 5)), rng.random(), 4.0, rng.random(), rng.random(), 1.0, 2, 0.0, 0.5)
        offer_args += (1.0, 1.0, 0.5, 0.3)
        assert compiled.MESA_RULES.choose_offer(*offer_args) == rules.choose_offer(*offer_args)


def _poisson_by_the_sum(rate, u):
    """The compiled poisson_count's sum without its shortcut, with the C library's exp (as numba's)."""
    rate = min(float(rate), rules.RATE_CAP)
    pmf = cdf = math.exp(-rate)
    count = 0
    for k in range(1, rules.MAX_TESTS_PER_WEEK + 1):
        if not u > cdf:
            break
        count, pmf = count + 1, pmf * rate / k
        cdf = cdf + pmf
    return count


def _near(x: float, ulps: int = 40) -> list[float]:
    """``x`` and its floating-point neighbours up to ``ulps`` units either side."""
    up, down, values = x, x, [x]
    for _ in range(ulps):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        values += [float(up), float(down)]
    return values


def test_the_compiled_shortcuts_give_what_the_full_computation_gives():
    """poisson_count returns 0 below 1 - rate - margin without exp, and talks_transition skips
    expm1 when the uniform is at or above the rate: at and around both thresholds (every
    neighbouring float within 40 ULP) the counts and transitions are the full computation's."""
    poisson = compiled.MESA_RULES.poisson_count
    for rate in [0.0, 1e-300, 1e-16, 1e-12, 1e-6, 0.01, 0.07, 0.5, 1.0, 1.5, 30.0, -0.5, np.nan, np.inf]:
        edges = [1 - rate, 1 - rate - compiled.POISSON_ZERO_MARGIN, math.exp(-rate) if rate == rate else 0.5]
        for u in [v for edge in edges if np.isfinite(edge) for v in _near(edge)]:
            if 0 < u < 1:
                assert poisson(rate, u) == _poisson_by_the_sum(rate, u), (rate, u)
    transition = compiled.MESA_RULES.talks_transition
    with np.errstate(all="ignore"):  # the numpy rule warns on inf and NaN rates; the outcomes are compared
        for stage in range(5):
            for rate in [1e-300, 1e-17, 1e-9, 0.003, 0.2, 0.9, 3.0, np.nan, -0.5, -np.inf, np.inf]:
                r01, r02 = rate / 3, 2 * rate / 3
                out_rate = {0: r01 + r02, 1: rate, 2: rate, 3: rate}.get(stage, 0.3 + 0.2)
                for u in _near(out_rate) if np.isfinite(out_rate) else [0.5]:
                    for major in (False, True):
                        args = (stage, 2, 0.5, u, major, 0.01, 0.02, r01, r02, rate, rate, 0.3, 0.2)
                        assert tuple(transition(*args)) == tuple(
                            np.asarray(v)[()] for v in rules.talks_transition(*args)
                        )


def test_the_kernel_s_rate_bound_is_never_below_the_rate_it_bounds():
    """The compiled week skips the willingness when the uniform is at or above _out_rate_bound:
    the bound must be at least the rate out of each stage for every willingness in [0, 1] (here
    logit choices of random utilities, and 0 and 1), or inf when a factor is negative or NaN."""
    from model import kernel

    rng = np.random.default_rng(23)
    state_type = np.dtype([("rok_mediation", "f8"), ("weeks_since_summit", "i8")], align=True)
    rate_names = ("inter_korean_rate", "direct_talks_rate", "us_dprk_rate", "summit_rate")
    param_type = np.dtype([(name, "f8") for name in rate_names] + [("summit_spacing", "f8")], align=True)
    special = [0.0, 1e-300, 1.0, 0.3, -0.2, np.nan, np.inf]
    C = compiled.MESA_RULES
    for _ in range(3000):
        s, p = np.zeros(1, state_type)[0], np.zeros(1, param_type)[0]
        pick = lambda: special[rng.integers(len(special))] if rng.random() < 0.2 else float(rng.random())  # noqa: E731
        s["rok_mediation"], s["weeks_since_summit"] = pick(), int(rng.integers(0, 30))
        for name in rate_names:
            p[name] = pick()
        p["summit_spacing"] = float(rng.integers(0, 20))
        share = pick()
        factors = [s["rok_mediation"], share, *(p[name] for name in rate_names)]
        for stage in range(5):
            bound = kernel._out_rate_bound(stage, s, p, share)
            if not all(f >= 0 for f in factors):
                assert bound == np.inf or stage == rules.SUSPENDED_TALKS, (stage, factors, bound)
                continue
            for dw, uw in [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0)] + [
                (float(C.logit_choice(u, 4.0)), float(C.logit_choice(v, 4.0))) for u, v in rng.normal(0, 3, (5, 2))
            ]:
                r01, r02, r12 = C.talks_rates(s["rok_mediation"], dw, uw, share, *(p[n] for n in rate_names[:3]))
                summit = C.summit_hazard(p["summit_rate"], dw, uw, s["weeks_since_summit"], p["summit_spacing"])
                read = {rules.NO_TALKS: r01 + r02, rules.INTER_KOREAN: r12, rules.SUSPENDED_TALKS: 0.0}
                rate = read.get(stage, summit)
                # a NaN rate moves nothing, skipped or not; inf is never skipped
                assert not rate > bound, (stage, dw, uw, rate, bound)


def _both_engines(params: Params, seeds, weeks: int, schedules, backend_name: str):
    batched = simulate([params] * len(seeds), seeds, weeks, levers=schedules, trajectories=True, backend=backend_name)
    for i, seed in enumerate(seeds):
        model = EscalationModel(params, rng=seed, levers=schedules[i], backend=backend_name).run(weeks)
        outcomes, trajectory = model.outcomes(), model.trajectory()
        for column in OUTCOME_COLUMNS:
            a, b = outcomes[column], batched.outcomes[column][i]
            assert a == b or (a != a and b != b), (backend_name, column, a, b)
        for column in SERIES:
            assert np.array_equal(trajectory[column].to_numpy(), batched.trajectory[column][:, i]), (
                backend_name,
                column,
            )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    params=parameter_sets(),
    seeds=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3, unique=True),
    weeks=st.integers(1, 60),
)
def test_each_backend_gives_both_engines_the_same_bits(data, params, seeds, weeks):
    schedules = [data.draw(lever_schedules(params, weeks)) for _ in seeds]
    for name in backend.BACKENDS:
        _both_engines(params, seeds, weeks, schedules, name)


def test_the_backends_agree_on_every_event_of_many_runs():
    # The same equations in the same order: only the last bits of exp/expm1/pow differ, so every
    # discrete event agrees (a difference would need a uniform within a few ulps of a threshold)
    # and the continuous values agree to about 1e-12.
    rng = np.random.default_rng(8)
    params = [
        Params(
            {"sanctions_level": float(rng.random()), "exercise_policy": policy, "rok_mediation": float(rng.random())}
        )
        for policy in ("as_scheduled", "suspended", "delayed", "dual_suspension")
    ]
    seeds = np.arange(4000)
    points = [params[i % len(params)] for i in range(len(seeds))]
    a = simulate(points, seeds, 156, backend="compiled", trajectories=True)
    b = simulate(points, seeds, 156, backend="numpy", trajectories=True)
    for column, dtype in OUTCOME_COLUMNS.items():
        if dtype == "float64" and column.startswith("final_"):
            assert np.allclose(a.outcomes[column], b.outcomes[column], rtol=1e-9, atol=1e-12, equal_nan=True), column
        else:
            assert np.array_equal(a.outcomes[column], b.outcomes[column], equal_nan=True), column
    for column in SERIES:
        assert np.allclose(a.trajectory[column], b.trajectory[column], rtol=1e-9, atol=1e-12), column
    assert a.outcomes["tests"].sum() > 1000 and a.outcomes["talks"].any()  # the runs do something


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), params=parameter_sets(), weeks=st.integers(1, 80))
def test_the_backends_agree_on_every_event_under_random_levers_and_forced_events(data, params, weeks):
    seeds = list(range(20))
    schedules = [data.draw(lever_schedules(params, weeks)) for _ in seeds]
    a = simulate([params] * len(seeds), seeds, weeks, levers=schedules, backend="compiled")
    b = simulate([params] * len(seeds), seeds, weeks, levers=schedules, backend="numpy")
    for column, dtype in OUTCOME_COLUMNS.items():
        if dtype == "float64" and column.startswith("final_"):
            assert np.allclose(a.outcomes[column], b.outcomes[column], rtol=1e-9, atol=1e-12, equal_nan=True), column
        else:
            assert np.array_equal(a.outcomes[column], b.outcomes[column], equal_nan=True), column


@pytest.mark.parametrize("name", backend.BACKENDS)
def test_running_past_the_lever_schedule_is_refused(name):
    from model.batched import BatchedEngine, ParamArrays, stack_schedules
    from model.policies import LeverSchedule

    params = Params({})
    engine = BatchedEngine(
        ParamArrays.from_points([params], np.zeros(3, dtype=int)),
        [1, 2, 3],
        stack_schedules([LeverSchedule.from_params(params)], 10),
        backend=name,
    )
    engine.run(10)
    with pytest.raises(ValueError, match="covers 10 weeks, not 11"):
        engine.run(1)
    with pytest.raises(ValueError, match="covers 10 weeks"):
        engine.step()


def test_a_compiled_run_continued_is_the_same_run():
    params = Params({"exercise_policy": "suspended"})
    whole = simulate([params] * 50, np.arange(50), 100, backend="compiled")
    from model.batched import simulate_points

    first = simulate_points([params], np.zeros(50, dtype=int), np.arange(50), 40, keep_state=True, backend="compiled")
    rest = simulate_points(
        [params], np.zeros(50, dtype=int), np.arange(50), 60, start=first.state, first_week=41, backend="compiled"
    )
    for column in ("final_trust_us_dprk", "final_dprk_stress", "final_sanctions_level"):
        assert np.array_equal(whole.outcomes[column], rest.outcomes[column]), column


def test_the_backend_is_chosen_and_refused_clearly(monkeypatch, capsys):
    monkeypatch.delenv(backend.ENVIRONMENT, raising=False)
    assert backend.resolve() == "compiled"
    assert backend.resolve("numpy") == "numpy"
    monkeypatch.setenv(backend.ENVIRONMENT, "numpy")
    assert backend.resolve() == "numpy"
    assert EscalationModel(rng=1).rules is rules
    with pytest.raises(ValueError, match="backend must be one of compiled, numpy"):
        backend.resolve("fast")
    monkeypatch.delenv(backend.ENVIRONMENT)
    monkeypatch.setattr(backend, "numba_available", lambda: False)
    backend._said_numpy.cache_clear()
    assert backend.resolve() == "numpy"
    assert backend.resolve() == "numpy"
    assert capsys.readouterr().err.count("numba is not installed") == 1
    with pytest.raises(ValueError, match="needs numba"):
        backend.resolve("compiled")


def test_without_numba_the_numpy_path_runs_and_says_so(tmp_path):
    # numba made unimportable: the engines run the numpy path, say so once on stderr, and give
    # the numpy backend's numbers
    script = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from model import EscalationModel, Params\n"
        "from model.batched import simulate\n"
        "r = simulate([Params({})] * 3, [1, 2, 3], 30)\n"
        "m = EscalationModel(rng=1).run(30)\n"
        "print(r.outcomes['final_trust_us_dprk'].tolist(), m.outcomes()['final_trust_us_dprk'], m.backend)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != backend.ENVIRONMENT}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert done.stderr.count("numba is not installed") == 1, done.stderr
    reference = simulate([Params({})] * 3, [1, 2, 3], 30, backend="numpy").outcomes["final_trust_us_dprk"]
    assert done.stdout.split("]")[0] + "]" == str(reference.tolist())
    assert done.stdout.strip().endswith("numpy")
