"""The interactive explorer, rendered headless with solara's test utilities (``solara.render`` and
the render context's ``find``): the one-run page (model/app.py) and the sweep page
(experiments/app/sweep.py). The browser test is tests/experiments/app/test_app_browser.py."""

import shutil
import socket

import ipyvuetify as v
import ipywidgets as widgets
import pandas as pd
import pytest
import solara
from conftest import assert_one_line_error, run_cli

from experiments import analysis
from experiments.analysis import plots
from experiments.app import sweep
from model import app
from model.model import EscalationModel
from model.params import TABLE
from model.week import SERIES


def render_run_page():
    """The one-run page inside an app layout (as the server shows it: the controls live in the sidebar)."""

    @solara.component
    def Wrapped():
        with solara.AppLayout():
            app.make_page()

    return solara.render(Wrapped(), handle_error=False)[1]


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
    sliders = {w.label: w for w in rc.find(v.Slider).widgets}
    selects = {w.label: w for w in rc.find(v.Select).widgets}
    shown = [p for p in TABLE.values() if p.kind in ("lever", "uncertainty")]
    assert shown and any(p.kind == "lever" for p in shown)
    for p in shown:
        label = app.control_label(p)
        assert p.name in label and p.unit in label and p.allowed in label
        if p.choices is not None:
            assert selects[label].items == list(p.choices) and selects[label].v_model == p.default
        else:
            slider = sliders[label]
            assert (slider.min, slider.max, slider.v_model) == (p.low, p.high, p.default), p.name
    constants = [p.name for p in TABLE.values() if p.kind == "constant"]
    assert not [label for label in [*sliders, *selects] if label.split(" [")[0] in constants]
    assert rc.find(v.TextField, label=app.model_params()["rng"]["label"]).widget.v_model == str(app.DEFAULT_SEED)


def test_every_weekly_series_is_plotted_once_and_trust_on_a_log_scale():
    groups = app.series_groups()
    plotted = [c for columns in groups.values() for c in columns]
    assert sorted(plotted) == sorted(SERIES)
    trust = [title for title, columns in groups.items() if any(c.startswith("trust_") for c in columns)]
    assert len(trust) == 1
    frame = app.weekly_series(EscalationModel(rng=2).run(5))
    assert app.series_figure(frame, trust[0], groups[trust[0]]).axes[0].get_yscale() == "log"
    other = next(t for t in groups if t not in trust)
    assert app.series_figure(frame, other, groups[other]).axes[0].get_yscale() == "linear"


def step_weeks(rc, weeks: int) -> None:
    """Advance the page's model ``weeks`` weeks with one press of Step (Render Interval = weeks)."""
    rc.find(v.Slider, label="Render Interval (steps)").widget.v_model = weeks
    button(rc, "Step").click()


def test_changing_a_control_and_stepping_changes_the_plotted_series():
    weeks = 12
    default = render_run_page()
    blank = series_images(default)
    step_weeks(default, weeks)
    default_images = series_images(default)
    assert len(default_images) == len(app.series_groups()) and default_images != blank
    assert "Week 12" in page_text(default) and "all parameters at the table" in page_text(default)

    again = render_run_page()  # the same controls give the same pictures
    step_weeks(again, weeks)
    assert series_images(again) == default_images

    changed = render_run_page()
    label = app.control_label(TABLE["engagement_stance"])
    changed.find(v.Select, label=label).widget.v_model = "pressure_first"
    button(changed, "Reset").click()
    step_weeks(changed, weeks)
    assert series_images(changed) != default_images
    text = page_text(changed)
    assert "Week 12" in text and "engagement_stance=pressure_first" in text


def test_the_page_runs_the_model_the_sweeps_run():
    model = app.AppModel(rng="7", sanctions_level=0.3, exercise_policy="suspended")
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
        ({"hawkes_alpha": 2.0, "hawkes_beta": 1.0}, "hawkes_alpha=2.0 must be less than hawkes_beta"),
    ],
)
def test_bad_input_is_shown_and_nothing_runs(values, fragment):
    model = app.AppModel(**values)
    assert fragment in model.input_error and not model.running
    model.step()
    assert app.weeks_run(model) == 0 and app.weekly_series(model).empty
    box, rc = solara.render(app.RunStatus(model), handle_error=False)
    assert fragment in rc.find(v.Alert).widget.children[0]


def test_event_log_reads_talks_tests_sanctions_and_forgone_exercises():
    model = app.AppModel(rng="5", sanctions_level=0.3, exercise_policy="suspended", spoiler_week=20).run(60)
    frame = app.weekly_series(model)
    found = app.events(frame, model.forgone)
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


def test_sweep_page_shows_the_stored_estimates_and_the_chosen_policys_contrast(smoke_results):
    before = sorted(p.stat().st_mtime_ns for p in smoke_results.rglob("*"))
    rc = solara.render(sweep.SweepPage(results=str(smoke_results)), handle_error=False)[1]
    assert not rc.find(v.Alert).widgets
    assert len(rc.find(widgets.Image).widgets) >= 2  # the heatmap and the time-to-talks curve
    result = analysis.load(smoke_results)
    by = list(result.levers)
    baseline = analysis.default_baseline(result.levers)
    view = sweep.SweepView(sweep.load_sweep(smoke_results))
    opened = view.default_policy()
    assert opened != baseline and plots.policy_label(opened) in titles_of(rc)
    # choose another policy in the page: exercises as scheduled, the other levers as opened
    rc.find(v.Select, label="exercise_policy").widgets[0].v_model = "as_scheduled"
    policy = {**opened, "exercise_policy": "as_scheduled"}
    assert f"Testing cost: {plots.policy_label(policy)}" in titles_of(rc)
    expected = pd.concat([analysis.paired_contrasts(result.rows, baseline, by, o) for o in ("talks", "tests")])
    expected = expected[analysis.matches(expected, policy)]
    got = view.contrasts(policy, baseline)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    cost = view.testing_cost(policy)
    assert cost["n"].item() == analysis.matches(result.rows, policy).sum()
    assert cost["mean_tests"].item() == result.rows[analysis.matches(result.rows, policy)]["tests"].mean()
    titles = titles_of(rc)
    assert "P(talks) with 95% intervals" in titles
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
    table = view.estimates_table().merge(expected, on=view.by)
    assert (table["p_talks"] == table["mean"].round(3)).all() and (
        table["p_talks_low"] == table["ci_low"].round(3)
    ).all()
    baseline, policy = view.default_baseline(), view.default_policy()
    want = contrasts_over_draws(view.result.rows, view.by, baseline, "talks", view.result.horizon)
    got = view.contrasts(policy, baseline)
    pd.testing.assert_frame_equal(
        got[got["outcome"] == "talks"].reset_index(drop=True),
        want[analysis.matches(want, policy)].reset_index(drop=True),
    )
    assert "P(talks) with 95% intervals over the draws" in titles_of(
        solara.render(sweep.SweepPage(results=str(posterior_results)), handle_error=False)[1]
    )
    rc = solara.render(sweep.SweepPage(results=str(posterior_results)), handle_error=False)[1]
    assert "Across the posterior" in titles_of(rc) and not rc.find(v.Alert).widgets


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
    assert "from model.app import page" in run_cli("app", "--help").stdout


def test_the_notebook_page_renders():
    """`from model.app import page; page` (the README's notebook recipe) is an element that renders
    with its controls (Jupyter puts the sidebar of an app layout in a dialog)."""

    @solara.component
    def Notebook():
        with solara.AppLayout():
            app.Page()

    assert app.page.component is app.Page  # `page` is this component's element
    rc = solara.render(Notebook(), handle_error=False)[1]
    assert [b.children for b in rc.find(v.Btn).widgets if b.children in (["Reset"], ["Step"])] == [["Reset"], ["Step"]]
