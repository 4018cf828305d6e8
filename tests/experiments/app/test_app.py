"""The interactive explorer, rendered headless with solara's test utilities (``solara.render`` and
the render context's ``find``): the one-run page (experiments/app/run.py) and the sweep page
(experiments/app/sweep.py). The browser test is tests/experiments/app/test_app_browser.py."""

import json
import shutil
import socket
import time

import ipyvuetify as v
import ipywidgets as widgets
import pandas as pd
import pytest
import solara
from conftest import assert_one_line_error, run_cli

from experiments import analysis
from experiments.analysis import plots
from experiments.app import run, sweep
from model.model import EscalationModel
from model.params import TABLE
from model.week import SERIES


def render_run_page(model=None):
    """The one-run page inside an app layout (as the server shows it: the controls live in the
    sidebar); ``model`` (a reactive) lets the test read the page's model."""

    @solara.component
    def Wrapped():
        with solara.AppLayout():
            run.RunPage(model=model)

    return solara.render(Wrapped(), handle_error=False)[1]


def control(rc, name):
    """The control (slider, list or box) of parameter ``name``."""
    return rc.find(class_=run.CONTROL_CLASS + name).widget


def button(rc, text):
    return rc.find(v.Btn, children=[text]).widget


def series_images(rc) -> list[bytes]:
    return [w.value for w in rc.find(widgets.Image).widgets]


def every(rc, cls) -> list:
    """Every widget of ``cls`` on the page, nested ones included (``find`` stops at a match, and the
    page's grid is itself a template widget holding the components)."""
    found, queue, seen = [], list(rc.find().widgets), set()
    while queue:
        item = queue.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, cls):
            found.append(item)
        if isinstance(item, widgets.Widget):
            queue.extend(getattr(item, name) for name in item.keys)
        elif isinstance(item, (list, tuple)):
            queue.extend(item)
        elif isinstance(item, dict):
            queue.extend(item.values())
    return found


def titles_of(rc) -> str:
    """The titles of the page's cards, joined."""
    return " | ".join(str(w.children[0]) for w in every(rc, v.CardTitle) if w.children)


def page_text(rc) -> str:
    """The HTML of the page's Markdown (status line, event log, outcomes)."""
    html = [str(getattr(w.template, "template", w.template)) for w in every(rc, v.VuetifyTemplate)]
    return "\n".join(h for h in html if "solara-markdown" in h)


# ---------------------------------------------------------------------------------------------
# the one-run page
# ---------------------------------------------------------------------------------------------


def test_every_lever_and_uncertainty_has_a_control_with_the_tables_range_and_default():
    rc = render_run_page()
    shown = [p for p in TABLE.values() if p.kind in ("lever", "uncertainty")]
    assert shown and any(p.kind == "lever" for p in shown)
    for p in shown:
        widget = control(rc, p.name)
        assert p.unit in widget.hint and p.allowed in widget.hint and "default" in widget.hint
        if p.choices is not None:
            assert isinstance(widget, v.Select) and widget.items == list(p.choices) and widget.v_model == p.default
        elif p.dtype is bool:
            assert isinstance(widget, v.Checkbox) and widget.v_model == p.default, p.name
        else:
            assert isinstance(widget, v.Slider), p.name
            assert (widget.min, widget.max, widget.v_model) == (p.low, p.high, p.default), p.name
    constants = [p.name for p in TABLE.values() if p.kind == "constant"]
    assert not [n for n in constants if rc.find(class_=run.CONTROL_CLASS + n).widgets]
    assert rc.find(v.TextField, label="seed (integer 0 to 2**64-1)").widget.v_model == str(run.DEFAULT_SEED)


def test_levers_come_first_and_every_uncertainty_sits_in_one_folded_group():
    rc = render_run_page()
    cards = [str(w.children[0]) for w in every(rc, v.CardTitle) if w.children]
    assert cards.index("Levers (the policies)") < cards.index("Uncertainties (folded by group)")
    grouped = [p.name for rows in run.parameter_groups().values() for p in rows]
    assert sorted(grouped) == sorted(p.name for p in TABLE.values() if p.kind == "uncertainty")
    assert len(run.parameter_groups()) > 1
    panels = rc.find(v.ExpansionPanels).widget
    assert panels.v_model == []  # every group folded until opened
    headers = [str(h.children[0]) for h in every(rc, v.ExpansionPanelHeader)]
    assert headers == [f"{title} ({len(rows)})" for title, rows in run.parameter_groups().items()]


def test_every_weekly_series_is_plotted_once_and_trust_on_a_log_scale():
    groups = run.series_groups()
    plotted = [c for columns in groups.values() for c in columns]
    assert sorted(plotted) == sorted(SERIES)
    trust = [title for title, columns in groups.items() if any(c.startswith("trust_") for c in columns)]
    assert len(trust) == 1
    frame = run.weekly_series(EscalationModel(rng=2).run(5))
    assert run.series_figure(frame, trust[0], groups[trust[0]]).axes[0].get_yscale() == "log"
    other = next(t for t in groups if t not in trust)
    assert run.series_figure(frame, other, groups[other]).axes[0].get_yscale() == "linear"


def test_before_the_first_week_the_plots_span_the_run_on_sensible_axes():
    empty = run.weekly_series(run.AppModel())
    for title, columns in run.series_groups().items():
        ax = run.series_figure(empty, title, columns).axes[0]
        assert ax.get_xlim() == (0, run.DEFAULT_WEEKS)
        low, high = ax.get_ylim()
        assert (low, high) == ((1e-3, 1) if title.startswith("Trust") else (0, 1)), title
        assert "press Step" in ax.texts[0].get_text()


def step_weeks(rc, weeks: int) -> None:
    """Advance the page's model ``weeks`` weeks with one press of Step."""
    rc.find(v.Slider, label="weeks per Step").widget.v_model = weeks
    button(rc, "Step").click()


def snap_like_the_browser(rc) -> None:
    """What the browser does when it draws the page: every float slider's value snapped to its step."""
    for widget in rc.find(v.Slider).widgets:
        if widget.step and widget.step < 1:
            widget.v_model = round(round(widget.v_model / widget.step) * widget.step, 12)


def cli_run(tmp_path, seed: int, weeks: int, *sets: str):
    """`escalation run --json --trajectory` of the same run: outcomes and weekly series."""
    csv = tmp_path / "run.csv"
    args = [a for s in sets for a in ("--set", s)]
    result = run_cli("run", "--seed", str(seed), "--weeks", str(weeks), "--json", "--trajectory", str(csv), *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["outcomes"], pd.read_csv(csv)


def test_reset_then_step_runs_exactly_what_escalation_run_runs(tmp_path):
    """Only the controls a user moved reach the model: after the browser snaps every slider to
    its step, Reset and Step give `escalation run` with the same seed, to the last digit; a moved
    lever gives `escalation run --set` of it."""
    model = solara.reactive(run.AppModel())
    rc = render_run_page(model)
    snap_like_the_browser(rc)
    rc.find(v.TextField, label="seed (integer 0 to 2**64-1)").widget.v_model = "3"
    button(rc, "Reset").click()
    step_weeks(rc, 20)
    assert model.value.params.changed() == {} and model.value.seed == 3
    outcomes, trajectory = cli_run(tmp_path, 3, 20)
    pd.testing.assert_frame_equal(model.value.trajectory(), trajectory, check_dtype=False, check_exact=True)
    page_outcomes = {k: None if isinstance(v, float) and v != v else v for k, v in model.value.outcomes().items()}
    assert json.loads(json.dumps(page_outcomes, default=float)) == outcomes

    control(rc, "sanctions_level").v_model = 0.5
    control(rc, "exercise_policy").v_model = "suspended"
    button(rc, "Reset").click()
    step_weeks(rc, 20)
    assert model.value.params.changed() == {"sanctions_level": 0.5, "exercise_policy": "suspended"}
    outcomes, trajectory = cli_run(tmp_path, 3, 20, "sanctions_level=0.5", "exercise_policy=suspended")
    pd.testing.assert_frame_equal(model.value.trajectory(), trajectory, check_dtype=False, check_exact=True)
    text = page_text(rc)
    assert "Week 20" in text and "sanctions_level=0.5" in text and "exercise_policy=suspended" in text


@pytest.mark.parametrize("name", ["test_baseline_rate", "hawkes_ratio", "dprk_talk_base", "sanctions_level"])
def test_a_value_within_half_a_step_of_the_default_is_the_default(name):
    p = TABLE[name]
    step = run.slider_step(p)
    assert run.moved_value(p, round(p.default / step) * step) is None
    assert run.moved_value(p, p.default) is None
    moved = p.default + step if p.default + step <= p.high else p.default - step
    assert run.moved_value(p, moved) == pytest.approx(moved)


def test_changing_a_control_and_stepping_changes_the_plotted_series():
    weeks = 12
    default = render_run_page()
    blank = series_images(default)
    step_weeks(default, weeks)
    default_images = series_images(default)
    assert len(default_images) == len(run.series_groups()) and default_images != blank
    assert "Week 12" in page_text(default) and "all parameters at the table" in page_text(default)

    again = render_run_page()  # the same controls give the same pictures
    step_weeks(again, weeks)
    assert series_images(again) == default_images

    changed = render_run_page()
    control(changed, "engagement_stance").v_model = "pressure_first"
    assert "applies on **Reset**" in page_text(changed) or "applies on" in page_text(changed)
    button(changed, "Reset").click()
    step_weeks(changed, weeks)
    assert series_images(changed) != default_images
    text = page_text(changed)
    assert "Week 12" in text and "engagement_stance=pressure_first" in text


def test_the_page_runs_the_model_the_sweeps_run():
    model = run.AppModel(rng="7", sanctions_level=0.3, exercise_policy="suspended")
    reference = EscalationModel(sanctions_level=0.3, exercise_policy="suspended", rng=7)
    model.run(30), reference.run(30)
    pd.testing.assert_frame_equal(model.trajectory(), reference.trajectory())
    assert model.outcomes().keys() == reference.outcomes().keys()
    assert all(
        a == b or (a != a and b != b)
        for a, b in zip(model.outcomes().values(), reference.outcomes().values(), strict=True)
    )


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"rng": "seven"}, "seed 'seven' is not an integer"),
        ({"rng": str(2**64)}, "out of range"),
        ({"hawkes_ratio": 2.0}, "hawkes_ratio=2 is out of range"),
    ],
)
def test_bad_input_is_shown_and_nothing_runs(values, fragment):
    model = run.AppModel(**values)
    assert fragment in model.input_error and not model.running
    model.step()
    assert run.weeks_run(model) == 0 and run.weekly_series(model).empty
    box, rc = solara.render(run.RunStatus(model, solara.reactive({})), handle_error=False)
    assert fragment in rc.find(v.Alert).widget.children[0]


def test_event_log_reads_talks_tests_sanctions_and_forgone_exercises():
    model = run.AppModel(rng="5", sanctions_level=0.3, exercise_policy="suspended", spoiler_week=20).run(60)
    frame = run.weekly_series(model)
    found = run.events(frame, model.forgone)
    texts = [t for _, t in found]
    assert [w for w, _ in found] == sorted(w for w, _ in found)
    tests = frame[frame["tests"] > 0]
    assert [t for t in texts if " test" in t and "rung" in t] == [
        f"{n} test{'s' if n > 1 else ''} at rung {r}" for n, r in zip(tests["tests"], tests["test_rung"], strict=True)
    ]
    changes = (frame["talks_stage"] != frame["talks_stage"].shift(fill_value=0)).sum()
    assert sum(t.startswith("talks_stage:") for t in texts) == changes > 0
    assert any(t.startswith("standard exercise not held in full") for t in texts)
    assert all(held < standard for standard, held in model.forgone.values()) and model.forgone
    sanctions = frame["sanctions"]
    jumps = frame["week"][
        (sanctions.shift(2) == sanctions.shift(1)) & ((sanctions - sanctions.shift(1)).abs() > 0.01 * sanctions)
    ]
    assert len(jumps) > 0  # the spoiler package at least
    assert [w for w, t in found if t.startswith("sanctions:")] == jumps.tolist()


# ---------------------------------------------------------------------------------------------
# the sweep page
# ---------------------------------------------------------------------------------------------


def cli_message(directory) -> str:
    result = run_cli("report", str(directory))
    assert result.returncode == 2 and result.stderr.startswith("escalation: error: ")
    return result.stderr.strip().removeprefix("escalation: error: ")


def incomplete_copy(smoke_results, tmp_path):
    copy = tmp_path / "incomplete"
    shutil.copytree(smoke_results, copy)
    next(copy.rglob("*.parquet")).unlink()
    return copy


@pytest.mark.parametrize("case", ["missing", "not_results", "incomplete"])
def test_bad_directory_shows_the_clis_one_line_message_in_the_page(case, smoke_results, tmp_path):
    directory = {
        "missing": lambda: tmp_path / "nowhere",
        "not_results": lambda: tmp_path,
        "incomplete": lambda: incomplete_copy(smoke_results, tmp_path),
    }[case]()
    expected = cli_message(directory)
    view, problem = sweep.open_view(str(directory))
    assert view is None and problem == expected
    rc = solara.render(sweep.SweepPage(results=str(directory)), handle_error=False)[1]
    alert = rc.find(v.Alert).widget
    assert alert.children[0] == expected and "\n" not in expected
    assert not rc.find(widgets.Image).widgets


def wait_for_title(rc, text: str, timeout: float = 120) -> str:
    """The page's card titles once one contains ``text`` (the policy panels are computed in the
    background)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        titles = titles_of(rc)
        if text in titles:
            return titles
        time.sleep(0.2)
    raise AssertionError(f"no card titled {text!r} after {timeout} s: {titles_of(rc)}")


def test_sweep_page_shows_the_stored_estimates_and_the_chosen_policys_contrast(smoke_results):
    before = sorted(p.stat().st_mtime_ns for p in smoke_results.rglob("*"))
    rc = solara.render(sweep.SweepPage(results=str(smoke_results)), handle_error=False)[1]
    assert not rc.find(v.Alert).widgets
    wait_for_title(rc, "Time to talks:")
    assert len(rc.find(widgets.Image).widgets) >= 2  # the heatmap and the time-to-talks curve
    result = analysis.load(smoke_results)
    by = list(result.levers)
    baseline = analysis.default_baseline(result.levers)
    view = sweep.SweepView(sweep.load_sweep(smoke_results))
    opened = view.default_policy()
    assert opened != baseline and plots.policy_label(opened) in titles_of(rc)
    # choose another policy in the page: exercises as scheduled, the other levers as opened
    rc.find(v.Select, label="Exercise policy").widgets[0].v_model = "as scheduled"
    policy = {**opened, "exercise_policy": "as_scheduled"}
    wait_for_title(rc, f"Testing cost: {plots.policy_label(policy)}")
    expected = pd.concat([analysis.paired_contrasts(result.rows, baseline, by, o) for o in ("talks", "tests")])
    expected = expected[analysis.matches(expected, policy)]
    got = view.contrasts(policy, baseline)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    cost = view.testing_cost(policy)
    assert cost["n"].item() == analysis.matches(result.rows, policy).sum()
    assert cost["mean_tests"].item() == result.rows[analysis.matches(result.rows, policy)]["tests"].mean()
    titles = titles_of(rc)
    assert f"P(talks) within {result.horizon} weeks: 95% Wilson intervals, runs pooled" in titles
    assert "Paired contrast with the baseline" in titles and "Time to talks" in titles
    assert sorted(p.stat().st_mtime_ns for p in smoke_results.rglob("*")) == before  # read, never written


TINY_POSTERIOR = """
[experiment]
name = "tiny_posterior"
weeks = 12
replicates = 4
seed = 5
engine = "batched"
[levers]
exercise_policy = ["as_scheduled", "suspended"]
engagement_stance = ["pressure_first", "pressure_and_engagement"]
[posterior]
samples = 5
"""


@pytest.fixture(scope="module")
def posterior_results(tmp_path_factory):
    """A tiny sweep over 5 draws of the installed calibration posterior (4 runs per draw)."""
    from experiments.sweep.config import load_experiment
    from experiments.sweep.runner import run_sweep

    folder = tmp_path_factory.mktemp("posterior")
    config = folder / "tiny_posterior.toml"
    config.write_text(TINY_POSTERIOR)
    run_sweep(load_experiment(config), folder / "out", workers=1, progress=False)
    return folder / "out"


def test_posterior_spread_only_for_posterior_sweeps(smoke_results, posterior_results):
    view = sweep.SweepView(sweep.load_sweep(smoke_results))
    assert not view.is_posterior and view.posterior_spread() is None and view.posterior_png() is None
    assert not view.over_draws

    view = sweep.SweepView(sweep.load_sweep(posterior_results))
    assert view.is_posterior
    expected = analysis.posterior_spread(view.result.rows, view.by, "talks")
    pd.testing.assert_frame_equal(view.posterior_spread(), expected)
    assert (expected["draws"] == 5).all() and (expected["runs_per_draw"] == 4).all()
    assert view.heatmap_png() is None  # no sanctions lever: the page shows the table only
    # the estimates and the contrasts are taken over the draws, as the report takes them
    from experiments.analysis.robustness import contrasts_over_draws

    assert view.over_draws
    table = view.summary.merge(expected, on=view.by)
    assert (table["p_talks"] == table["mean"]).all() and (table["p_talks_low"] == table["ci_low"]).all()
    baseline, policy = view.default_baseline(), view.default_policy()
    want = contrasts_over_draws(view.result.rows, view.by, baseline, "talks", view.result.horizon)
    got = view.contrasts(policy, baseline)
    pd.testing.assert_frame_equal(
        got[got["outcome"] == "talks"].reset_index(drop=True),
        want[analysis.matches(want, policy)].reset_index(drop=True),
    )
    rc = solara.render(sweep.SweepPage(results=str(posterior_results)), handle_error=False)[1]
    titles = titles_of(rc)
    assert "P(talks) within 12 weeks: mean over the 5 posterior draws, 95% t interval over the draws" in titles
    assert "Across the posterior" in titles and not rc.find(v.Alert).widgets


def test_sweep_page_reads_the_estimates_table_and_shows_it_in_words(smoke_results, tmp_path):
    """With a current summary.csv the page shows its numbers (a value changed in the file shows
    up) and reads no run before a policy's panels need them; the columns are named in words."""
    from experiments.analysis.estimates import SUMMARY_FILE, write_summary

    copy = tmp_path / "with_summary"
    shutil.copytree(smoke_results, copy)
    write_summary(analysis.load(copy))
    table = pd.read_csv(copy / SUMMARY_FILE)
    table.loc[0, "p_talks"] = 0.123456  # a mark only the file carries
    (copy / SUMMARY_FILE).write_text(table.to_csv(index=False))
    view = sweep.SweepView(sweep.load_sweep(copy))
    assert view.stored_summary and view.summary.loc[0, "p_talks"] == 0.123456
    shown = view.estimates_table()
    assert "runs" in shown.columns and "P(US–DPRK talks)" in shown.columns and "Exercise policy" in shown.columns
    assert not [c for c in shown.columns if "_" in c]
    assert not [v for v in shown["Exercise policy"] if "_" in v]
    assert "runs" not in vars(view)  # the runs are not read for the estimates
    assert set(view.result.rows.columns) >= {"talks", "tests"} and "talks_week" not in view.result.rows


# ---------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------


def test_app_command_refuses_a_bad_or_busy_port_in_one_line():
    assert_one_line_error(run_cli("app", "--port", "70000"), "--port", "0 to 65535")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(run_cli("app", "--port", str(port)), f"port {port} on 127.0.0.1 is in use", "--port")
    assert "from experiments.app.run import page" in " ".join(run_cli("app", "--help").stdout.split())


def test_the_notebook_page_renders():
    """`from experiments.app.run import page; page` (the notebook recipe) is an element that renders
    with its controls (Jupyter puts the sidebar of an app layout in a dialog)."""

    @solara.component
    def Notebook():
        with solara.AppLayout():
            run.RunPage()

    assert run.page.component is run.RunPage  # `page` is this component's element
    rc = solara.render(Notebook(), handle_error=False)[1]
    assert [b.children for b in rc.find(v.Btn).widgets if b.children in (["Reset"], ["Step"])] == [["Reset"], ["Step"]]
