"""Scenarios that say what happened: a summit's outcome, suspensions, exercises off the calendar,
exercises moved, and a period that continues another run by run (``continue_from``)."""

import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import RECORD, ROOT, assert_one_line_error, run_cli

from experiments.errors import UserError
from experiments.history.replay import Replay
from experiments.history.scenario import load_scenario
from experiments.seeds import replicate_seeds
from model import rules
from model.batched import BatchedEngine, ParamArrays, stack_schedules
from model.params import Params
from model.policies import LeverSchedule

FIRST = """
[scenario]
name = "first"
start = 2030-01-07
end = 2030-12-30

[params]
initial_stage = 0
test_baseline_rate = 0.3

[[levers]]
date = 2030-01-07
engagement_stance = "pressure_first"
rok_mediation = 0.2

[[levers]]
date = 2030-06-03
engagement_stance = "pressure_and_engagement"
rok_mediation = 0.7
"""

SECOND = """
[scenario]
name = "second"
start = 2031-01-06
end = 2031-12-29
continue_from = "first.toml"
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def chain(tmp_path, second_extra="", first_extra=""):
    write(tmp_path, FIRST + first_extra, "first.toml")
    return write(tmp_path, SECOND + second_extra, "second.toml")


# ---- the engine: a run continued is the same run -----------------------------------------------


def test_a_continued_block_of_runs_equals_the_runs_in_one_piece():
    p, seeds = Params(initial_stage=0), np.arange(300)
    levers = stack_schedules([LeverSchedule.from_params(p)], 150)
    params = ParamArrays.from_points([p], np.zeros(300, dtype=np.intp))
    whole = BatchedEngine(params, seeds, levers).run(150, trajectories=True, keep_state=True)
    first = BatchedEngine(params, seeds, {k: v[:90] for k, v in levers.items()}).run(90, keep_state=True)
    rest = BatchedEngine(params, seeds, {k: v[90:] for k, v in levers.items()}, start=first.state, first_week=91)
    second = rest.run(60, trajectories=True, keep_state=True)
    for name, series in whole.trajectory.items():
        assert np.array_equal(series[90:], second.trajectory[name]), name
    assert whole.state.keys() == second.state.keys()
    for name, value in whole.state.items():
        assert np.array_equal(value, second.state[name]), name
    assert (whole.trajectory["tests"][90:].sum() > 0) and (whole.trajectory["talks_stage"][89] > 0).any()


def test_the_state_holds_every_state_variable_of_every_actor():
    p = Params()
    engine = BatchedEngine(
        ParamArrays.from_points([p], np.zeros(4, dtype=np.intp)),
        np.arange(4),
        stack_schedules([LeverSchedule.from_params(p)], 3),
    )
    state = engine.state()
    for actor in ("us", "rok", "dprk", "china", "japan"):
        for name, value in vars(getattr(engine, actor)).items():
            if name in ("params", "present"):
                continue
            keys = [f"{actor}.{name}.{other}" for other in value] if isinstance(value, dict) else [f"{actor}.{name}"]
            assert all(k in state for k in keys), keys
    assert {"talks_stage", "remembered_stage", "idle_weeks"} <= state.keys()
    assert state["dprk.progress"].shape == (4, rules.RUNGS)
    partial = {k: v for k, v in state.items() if k != "dprk.reactance"}
    with pytest.raises(ValueError, match="lacks dprk.reactance"):
        engine.restore(partial)
    with pytest.raises(ValueError, match="does not"):
        engine.restore({**state, "dprk.mood": state["dprk.stress"]})


# ---- continue_from ------------------------------------------------------------------------------


def test_a_continued_scenario_replays_as_one_run_over_both_periods(tmp_path):
    second = load_scenario(chain(tmp_path))
    first = second.continue_from
    assert second.lead_weeks == 52 and second.chain == [first, second]
    seeds = replicate_seeds(7, 200)
    whole = first.simulate(seeds, weeks=second.lead_weeks + second.weeks, trajectories=True)
    continued = second.simulate(seeds, trajectories=True)
    for name, series in whole.trajectory.items():
        assert np.array_equal(series[second.lead_weeks :], continued.trajectory[name]), name


def test_a_continued_scenario_starts_with_the_levers_and_parameters_of_the_period_before(tmp_path):
    second = load_scenario(chain(tmp_path))
    assert second.params.engagement_stance == "pressure_and_engagement"
    assert second.params.rok_mediation == 0.7
    assert second.params.test_baseline_rate == 0.3
    assert second.params.start_date == "2031-01-06"
    assert any("continues first.toml" in note for note in second.notes)
    moved = second.with_params(Params(hawkes_ratio=0.1))
    assert moved.continue_from.params.hawkes_ratio == 0.1 and moved.params.hawkes_ratio == 0.1
    assert moved.params.test_baseline_rate == 0.3  # the scenarios' own [params] still apply on top
    assert moved.params.engagement_stance == "pressure_and_engagement"


def test_a_continued_period_starts_where_each_run_left_off(tmp_path):
    """The engine restores every run's state as given (not the [params] state): their spread of
    talks stages and of self-excitation at the start is the earlier period's at its end."""
    second = load_scenario(chain(tmp_path))
    seeds = replicate_seeds(3, 400)
    before = second.continue_from.simulate(seeds, weeks=second.lead_weeks, keep_state=True).state
    engine = BatchedEngine(
        ParamArrays.from_points([second.params], np.zeros(400, dtype=np.intp)),
        seeds,
        stack_schedules([second.schedule()], 2),
        start=before,
        first_week=second.lead_weeks + 1,
    )
    restored = engine.state()
    assert all(np.array_equal(restored[k], before[k]) for k in before)
    assert (np.bincount(restored["talks_stage"], minlength=5) > 0).sum() >= 3
    assert np.unique(restored["dprk.excitation"]).size > 10


def test_a_continued_scenario_may_set_levers_in_its_params(tmp_path):
    scenario = load_scenario(chain(tmp_path, '[params]\nrok_mediation = 0.9\nexercise_policy = "suspended"\n'))
    assert scenario.params.rok_mediation == 0.9 and scenario.params.exercise_policy == "suspended"
    assert scenario.with_params(Params()).params.rok_mediation == 0.9
    assert scenario.params.engagement_stance == "pressure_and_engagement"  # still carried


def test_a_start_after_the_earlier_end_replays_the_gap_with_this_files_entries(tmp_path):
    """The weeks between the earlier period's end and this start are this file's: a termination
    and an event dated then apply there, as they would in one scenario over both."""
    later = (
        SECOND.replace("2031-01-06", "2031-06-02")
        + TERMINATED
        + TERMINATED.replace("Foal Eagle", "Key Resolve")
        + '[[events]]\ndate = 2031-04-01\nkind = "talks_ended"\n'
    )
    write(tmp_path, FIRST, "first.toml")
    scenario = load_scenario(write(tmp_path, later, "second.toml"))
    gap = scenario.continue_from
    assert gap.start == dt.date(2031, 1, 6) and gap.end == dt.date(2031, 6, 1) and gap.continue_from.name == "first"
    assert scenario.lead_weeks == gap.weeks and any("replayed with this file's" in n for n in scenario.notes)
    arrays = gap.lever_arrays(gap.weeks)
    spring = gap.week_of(dt.date(2031, 3, 16)) - 1
    assert arrays["standard_exercise"][spring] == 0.0  # the spring exercises terminated on 2 March, in the gap
    assert arrays["forced_event"][gap.week_of(dt.date(2031, 4, 1)) - 1] == rules.EVENT_ENDED
    result = scenario.simulate(replicate_seeds(5, 100), trajectories=True)
    assert result.trajectory["tests"].shape == (scenario.weeks, 100)


def test_two_events_in_one_week_both_happen_in_order(tmp_path):
    """A summit that fails and a suspension the next day (as a record would write them): the
    second moves to the next week, with a note, rather than replacing the first."""
    events = (
        '[[events]]\ndate = 2031-02-27\nkind = "summit"\noutcome = "no_deal"\n'
        '[[events]]\ndate = 2031-02-28\nkind = "talks_ended"\n'
    )
    scenario = load_scenario(chain(tmp_path, events))
    forced = scenario.lever_arrays(scenario.weeks)["forced_event"]
    week = scenario.week_of(dt.date(2031, 2, 27)) - 1
    assert forced[week] == rules.EVENT_SUMMIT_NO_DEAL and forced[week + 1] == rules.EVENT_ENDED
    assert any("move to the next free week" in note for note in scenario.notes)
    replay = Replay(scenario, replicates=50)
    summit = replay.weekly["summit"][week]
    assert np.isin(summit, [rules.SUMMIT_FAILED, rules.SUMMIT_STATEMENT]).all()  # no deal, whichever else
    assert (summit == rules.SUMMIT_FAILED).any() and (summit == rules.SUMMIT_STATEMENT).any()
    assert (replay.weekly["talks_stage"][week + 1] == rules.NO_TALKS).all()


def test_an_event_with_no_week_left_in_the_period_is_reported_as_dropped(tmp_path):
    """Two events in the last week: the later cannot move past the end, so it is dropped with a
    note saying so, never under a note saying it moved."""
    events = (
        '[[events]]\ndate = 2031-12-29\nkind = "summit"\noutcome = "no_deal"\n'
        '[[events]]\ndate = 2031-12-29\nkind = "talks_ended"\n'
    )
    scenario = load_scenario(chain(tmp_path, events))
    assert scenario.events == [(dt.date(2031, 12, 29), rules.EVENT_SUMMIT_NO_DEAL)]
    forced = scenario.lever_arrays(scenario.weeks)["forced_event"]
    assert forced[-1] == rules.EVENT_SUMMIT_NO_DEAL and (forced[:-1] == 0).all()
    assert not any("move to the next free week" in note for note in scenario.notes)
    (dropped,) = [note for note in scenario.notes if "dropped" in note]
    assert "2031-12-29 (talks_ended)" in dropped and "summit" not in dropped


def test_the_replay_of_a_continued_period_judges_f5_not_applicable(tmp_path):
    second = load_scenario(chain(tmp_path))
    facts = {f.name: f for f in Replay(second, replicates=50).facts()}
    assert facts["F5"].passed is None


@pytest.mark.parametrize(
    "second_extra, fragments",
    [
        ("[params]\ninitial_progress = 0.5\n", ["initial_progress sets the state at the start", "continues"]),
        ("[params]\ntrust_us_dprk = 0.5\n", ["trust_us_dprk sets the state at the start"]),
    ],
)
def test_a_continued_scenario_refuses_a_starting_state(tmp_path, second_extra, fragments):
    path = chain(tmp_path, second_extra)
    assert_one_line_error(run_cli("replay", str(path), "--record", str(RECORD), "--replicates", "5"), *fragments)


@pytest.mark.parametrize(
    "text, fragments",
    [
        (SECOND.replace("first.toml", "missing.toml"), ["continue_from: no scenario file", "missing.toml"]),
        (SECOND.replace("2031-01-06", "2030-01-09"), ["must be at least a week after the start 2030-01-07"]),
        (SECOND.replace('"first.toml"', "3"), ["continue_from must be a scenario file name"]),
        (SECOND.replace('"first.toml"', '"second.toml"'), ["leads back to a scenario it continues"]),
    ],
)
def test_continue_from_errors_are_one_line(tmp_path, text, fragments):
    write(tmp_path, FIRST, "first.toml")
    path = write(tmp_path, text, "second.toml")
    with pytest.raises(UserError):
        load_scenario(path)
    assert_one_line_error(run_cli("replay", str(path), "--record", str(RECORD), "--replicates", "5"), *fragments)


def test_a_loop_through_two_files_is_refused(tmp_path):
    write(tmp_path, SECOND.replace("first.toml", "second.toml").replace("2031-01-06", "2031-06-02"), "first.toml")
    path = write(tmp_path, SECOND, "second.toml")
    with pytest.raises(UserError, match="leads back"):
        load_scenario(path)


def test_calibrate_refuses_a_continued_scenario(tmp_path):
    path = chain(tmp_path)
    assert_one_line_error(
        run_cli("calibrate", str(path), "--record", str(RECORD), "--out", str(tmp_path / "c")),
        "continues first.toml",
        "calibrate the first period",
    )


# ---- events: a summit's outcome, suspensions ---------------------------------------------------


@pytest.mark.parametrize(
    "entry, code",
    [
        ('kind = "summit"', rules.EVENT_SUMMIT),
        ('kind = "summit"\noutcome = "deal"', rules.EVENT_SUMMIT_DEAL),
        ('kind = "summit"\noutcome = "no_deal"', rules.EVENT_SUMMIT_NO_DEAL),
        ('kind = "summit"\noutcome = "statement"', rules.EVENT_SUMMIT_STATEMENT),
        ('kind = "summit"\noutcome = "failed"', rules.EVENT_SUMMIT_FAILED),
        ('kind = "summit_statement"', rules.EVENT_SUMMIT_STATEMENT),
        ('kind = "summit_failed"', rules.EVENT_SUMMIT_FAILED),
        ('kind = "talks_suspended"', rules.EVENT_SUSPENDED),
        ('kind = "talks_resumed"\nlabel = "working level"', rules.EVENT_RESUMED),
        ('kind = "talks_ended"', rules.EVENT_ENDED),
    ],
)
def test_events_map_to_their_forced_event(tmp_path, entry, code):
    scenario = load_scenario(chain(tmp_path, f"[[events]]\ndate = 2031-02-27\n{entry}\n"))
    week = scenario.week_of(dt.date(2031, 2, 27))
    forced = scenario.lever_arrays(scenario.weeks)["forced_event"]
    assert forced[week - 1] == code and np.count_nonzero(forced) == 1


def test_a_summit_forced_without_a_deal_never_deals_and_with_one_succeeds(tmp_path):
    date = dt.date(2031, 2, 27)
    for outcome, allowed in (
        ("no_deal", [rules.SUMMIT_FAILED, rules.SUMMIT_STATEMENT]),  # the model decides between these
        ("deal", [rules.SUMMIT_DEAL]),
    ):
        scenario = load_scenario(
            chain(tmp_path, f'[[events]]\ndate = {date}\nkind = "summit"\noutcome = "{outcome}"\n')
        )
        replay = Replay(scenario, replicates=100)
        assert np.isin(replay.weekly["summit"][scenario.week_of(date) - 1], allowed).all()


@pytest.mark.parametrize(
    "entry, outcome, stage",
    [
        ('kind = "summit"\noutcome = "statement"', rules.SUMMIT_STATEMENT, rules.PRELIMINARY),
        ('kind = "summit_statement"', rules.SUMMIT_STATEMENT, rules.PRELIMINARY),
        ('kind = "summit"\noutcome = "failed"', rules.SUMMIT_FAILED, rules.SUSPENDED_TALKS),
        ('kind = "summit_failed"', rules.SUMMIT_FAILED, rules.SUSPENDED_TALKS),
    ],
)
def test_a_summit_forced_to_a_statement_or_a_failure_ends_so_in_both_engines(tmp_path, entry, outcome, stage):
    """Left to the model, this summit ends in a statement in some runs and a failure in others;
    forced, it ends as the scenario says in every run, on the batched engine and the Mesa model
    alike, and the talks stage follows (a statement keeps talks at US-DPRK level, a failure
    suspends them)."""
    from model import EscalationModel

    date = dt.date(2030, 2, 27)
    free = load_scenario(write(tmp_path, FIRST + f'[[events]]\ndate = {date}\nkind = "summit"\n', "free.toml"))
    week = free.week_of(date) - 1
    chosen = Replay(free, replicates=200, seed=3).weekly["summit"][week]
    assert {rules.SUMMIT_STATEMENT, rules.SUMMIT_FAILED} <= set(chosen.tolist())  # the model's choice varies
    scenario = load_scenario(write(tmp_path, FIRST + f"[[events]]\ndate = {date}\n{entry}\n", "forced.toml"))
    replay = Replay(scenario, replicates=200, seed=3)
    assert (replay.weekly["summit"][week] == outcome).all()
    assert (replay.weekly["talks_stage"][week] == stage).all()
    for i, seed in enumerate(replicate_seeds(3, 200)[:10]):
        mesa = EscalationModel(scenario.params, rng=int(seed), levers=scenario.schedule()).run(scenario.weeks)
        trajectory = mesa.trajectory()
        assert trajectory["summit"].iloc[week] == outcome
        assert np.array_equal(trajectory["summit"].to_numpy(), replay.weekly["summit"][:, i])
        assert np.array_equal(trajectory["talks_stage"].to_numpy(), replay.weekly["talks_stage"][:, i])


@pytest.mark.parametrize(
    "entry, fragments",
    [
        ('kind = "talks_suspended"\noutcome = "deal"', ['outcome is for kind = "summit" only']),
        (
            'kind = "summit"\noutcome = "failure"',
            ["summit outcome 'failure' is not allowed", "failed", "statement", "no_deal"],
        ),
        ('kind = "summit_failure"', ["kind 'summit_failure' is not allowed", "summit_failed"]),
        ('kind = "summit"\nresult = "deal"', ["unknown key 'result'", "outcome"]),
        ('kind = ["summit"]', ["kind ['summit'] is not allowed"]),
        ('kind = "summit"\noutcome = ["deal"]', ["summit outcome ['deal'] is not allowed"]),
    ],
)
def test_event_errors_are_one_line(tmp_path, entry, fragments):
    path = chain(tmp_path, f"[[events]]\ndate = 2031-02-27\n{entry}\n")
    assert_one_line_error(run_cli("replay", str(path), "--record", str(RECORD), "--replicates", "5"), *fragments)


# ---- exercises: terminated, moved ---------------------------------------------------------------

TERMINATED = '[[exercises]]\nname = "Foal Eagle"\nterminated = 2031-03-02\n'


def test_a_terminated_exercise_leaves_both_calendars_so_its_absence_sends_no_signal(tmp_path):
    plain = load_scenario(chain(tmp_path))
    scenario = load_scenario(chain(tmp_path, TERMINATED + TERMINATED.replace("Foal Eagle", "Key Resolve")))
    names = {(e.name, e.start.year) for e in scenario.standard}
    assert ("Key Resolve", 2031) not in names and ("Foal Eagle", 2032) not in names
    foal = next(e for e in scenario.standard if e.name == "Foal Eagle" and e.start.year == 2031)
    assert foal.end == dt.date(2031, 3, 2)  # under way on the date: ends that day
    arrays = scenario.lever_arrays(scenario.weeks + 60)
    assert np.array_equal(arrays["standard_exercise"], arrays["scheduled_exercise"])  # nothing forgone
    spring = slice(scenario.week_of(dt.date(2031, 3, 9)) - 1, scenario.week_of(dt.date(2031, 4, 20)))
    assert plain.lever_arrays(scenario.weeks)["standard_exercise"][spring].max() == 1.0
    assert arrays["standard_exercise"][spring].max() == 0.0
    later = scenario.week_of(dt.date(2032, 3, 15)) - 1
    assert arrays["standard_exercise"][later] == 0.0  # and the next years' instances are gone too
    ufg = scenario.week_of(dt.date(2031, 8, 25)) - 1
    assert arrays["standard_exercise"][ufg] > 0  # other exercises stay


def test_a_termination_carries_into_a_period_that_continues(tmp_path):
    write(tmp_path, SECOND + TERMINATED, "second.toml")
    write(tmp_path, FIRST, "first.toml")
    third = write(
        tmp_path,
        SECOND.replace("first.toml", "second.toml")
        .replace("2031-01-06", "2032-01-05")
        .replace("2031-12-29", "2032-12-27"),
        "third.toml",
    )
    scenario = load_scenario(third)
    assert scenario.terminated == {"Foal Eagle": dt.date(2031, 3, 2)}
    assert not any(e.name == "Foal Eagle" for e in scenario.standard if e.start.year >= 2032)


@pytest.mark.parametrize(
    "extra, fragments",
    [
        (
            TERMINATED + '[[exercises]]\nname = "Foal Eagle"\nyear = 2032\nstatus = "suspended"\n',
            ["Foal Eagle 2032 is changed", "off the calendar from 2031-03-02"],
        ),
        (
            '[[exercises]]\nname = "Foal Egle"\nterminated = 2031-03-02\n',
            ["unknown exercise 'Foal Egle'", "Foal Eagle"],
        ),
        ('[[exercises]]\nname = "Foal Eagle"\nterminated = 2031-03-02\nyear = 2031\n', ["unknown key 'year'"]),
        ('[[exercises]]\nname = "Foal Eagle"\nterminated = "soon"\n', ["terminated must be a date"]),
        (
            '[[exercises]]\nname = "Key Resolve"\nyear = 2031\nstart = 2031-02-02\nstatus = "delayed"\n',
            ["a start date moves the exercise"],
        ),
        (
            '[[exercises]]\nname = "Dong Maeng"\nstart = 2031-03-04\nintensty = 0.5\n',
            ["unknown key 'intensty'", "intensity"],
        ),
    ],
)
def test_exercise_errors_are_one_line(tmp_path, extra, fragments):
    path = chain(tmp_path, extra)
    assert_one_line_error(run_cli("replay", str(path), "--record", str(RECORD), "--replicates", "5"), *fragments)


def test_an_exercise_can_be_moved_earlier(tmp_path):
    scenario = load_scenario(
        chain(tmp_path, '[[exercises]]\nname = "Key Resolve"\nyear = 2031\nstart = 2031-02-03\ndays = 7\n')
    )
    key_resolve = [e for e in scenario.exercises if e.name == "Key Resolve" and e.start.year == 2031]
    assert [(e.start, e.days) for e in key_resolve] == [(dt.date(2031, 2, 3), 7)]
    arrays = scenario.lever_arrays(scenario.weeks)
    feb = scenario.week_of(dt.date(2031, 2, 3)) - 1
    assert arrays["scheduled_exercise"][feb] == 1.0 and arrays["standard_exercise"][feb] == 0.0


# ---- the posterior predictive replay --------------------------------------------------------------


def test_a_replay_over_a_one_particle_posterior_at_the_calibrated_point_is_the_point_replay(tmp_path):
    from experiments.history.calibration import CALIBRATED_PARAMETERS

    scenario = load_scenario(chain(tmp_path))
    point = Params()
    posterior = pd.DataFrame({**{n: [point[n]] for n in CALIBRATED_PARAMETERS if n in point}, "weight": [1.0]})
    a, b = Replay(scenario, replicates=60), Replay(scenario, replicates=60, posterior=posterior)
    for name, series in a.weekly.items():
        assert np.array_equal(series, b.weekly[name]), name
    assert a.particles is None and b.particles is not None and (b.particles == 0).all()


def test_posterior_draws_give_each_replicate_its_particle(tmp_path):
    scenario = load_scenario(write(tmp_path, FIRST.replace("test_baseline_rate = 0.3\n", ""), "quiet.toml"))
    posterior = pd.DataFrame({"test_baseline_rate": [0.0, 3.0], "weight": [1.0, 1.0]})
    replay = Replay(scenario, replicates=200, posterior=posterior)
    assert set(np.unique(replay.particles)) == {0, 1}
    tests = replay.weekly["tests"].sum(axis=0)
    assert (tests[replay.particles == 0] == 0).all() and tests[replay.particles == 1].mean() > 1


def test_replay_takes_a_posterior_file_from_the_command_line(tmp_path):
    path = chain(tmp_path)
    bad = tmp_path / "posterior.csv"
    bad.write_text("weight,initial_stress\n1,0.2\n")
    assert_one_line_error(
        run_cli("replay", str(path), "--record", str(RECORD), "--replicates", "5", "--posterior", str(bad)),
        "initial_stress",
        "start state",
    )


def test_the_readme_example_continues_the_shipped_history_from_the_monday_after_it(tmp_path):
    import re
    import shutil

    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "continue_from" in b)
    shutil.copy(ROOT / "experiments" / "scenarios" / "history_2016_2018.toml", tmp_path)
    scenario = load_scenario(write(tmp_path, block, "after_2018.toml"))
    history = scenario.continue_from
    assert history.name == "history_2016_2018" and scenario.lead_weeks == history.weeks - 1
    assert scenario.start == history.start + dt.timedelta(weeks=scenario.lead_weeks)  # no gap, no overlap
    assert scenario.params.engagement_stance == "pressure_and_engagement" and scenario.params.rok_mediation == 0.8
    assert not scenario.endogenous_sanctions  # carried: the record dictated sanctions in 2016-2018


@pytest.mark.parametrize("line", ['include_japan = "false"', 'initial_moratorium = "yes"', 'include_china = "off"'])
def test_a_quoted_boolean_in_params_is_refused_as_in_every_other_table(tmp_path, line):
    path = write(tmp_path, FIRST.replace("[params]\n", f"[params]\n{line}\n"))
    with pytest.raises(UserError, match=r"\[params\] .*='.*' is not valid: allowed .*unquoted"):
        load_scenario(path)
