"""The one-run page: the model run week by week with its levers and uncertainties as controls.

Everything on the page is generated, nothing is written per variable:

* the controls come from the parameter table (:data:`model.params.TABLE`): the levers first,
  then the uncertainties grouped as the table groups them (:func:`parameter_groups`), each
  group folded; a slider over the table's range (a list for a categorical parameter), its
  value, unit, range and default shown; plus the seed;
* only the controls a user moved reach the model (:func:`moved_value`): an untouched control
  keeps the table's value exactly, so that after **Reset** the run is ``escalation run`` with
  the same seed and the moved values as ``--set``;
* the plots show every weekly series the model collects (:data:`model.week.SERIES`), grouped
  by :func:`series_groups`; the event log (:func:`events`) reads the same series; the outcomes
  are :meth:`EscalationModel.outcomes`.

The model on the page is :class:`EscalationModel` itself (:class:`AppModel` only turns the
page's values into its arguments), so it is the model the sweeps run.

From a shell: ``escalation app`` (this page and the sweep explorer). From a notebook::

    from experiments.app.run import page
    page            # the last expression of a cell displays the page
"""

from __future__ import annotations

import functools
import inspect
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import solara
from matplotlib.figure import Figure

import model.params as params_module
from model.model import EscalationModel
from model.params import TABLE, Parameter, ParameterError, Params
from model.week import SERIES

from ..analysis.plots.labels import LABELS, lever_name

DEFAULT_SEED = 1
"""Seed of the run the page opens with (as ``escalation run``'s default)."""

DEFAULT_WEEKS = 52
"""Weeks a run lasts by default (as ``escalation run``'s default); the plots' time axis spans them."""

SLIDER_STEPS = 100
"""A float slider moves in steps of about 1/100 of its range (a power of ten)."""


# ---------------------------------------------------------------------------------------------
# controls, from the parameter table
# ---------------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def control_hint(p: Parameter) -> str:
    """The line under a control: unit, allowed values and default."""
    default = str(p.default).lower() if p.dtype is bool else _number(p.default)
    return f"{p.unit}; {p.allowed}; default {default}"


def slider_step(p: Parameter) -> float:
    """The step of a float slider: the power of ten nearest 1/:data:`SLIDER_STEPS` of the range."""
    low, high = _bounds(p)
    return 10.0 ** math.floor(math.log10((high - low) / SLIDER_STEPS))


def _bounds(p: Parameter) -> tuple[float, float]:
    """A numeric row's range (every int and float row of the table has one)."""
    if p.low is None or p.high is None:
        raise ValueError(f"{p.name} has no range")
    return p.low, p.high


def moved_value(p: Parameter, value: Any) -> Any | None:
    """The value a control reports, or None when it still stands at the table's default.

    A float slider snaps its value to its step (the browser does it as soon as it draws the
    slider), so a value within half a step of the default counts as the default: an untouched
    slider, or one moved back to where it started, leaves the table's value exactly."""
    if p.dtype is float and p.low is not None and isinstance(value, (int, float)):
        return None if abs(float(value) - p.default) <= slider_step(p) / 2 + 1e-12 else float(value)
    return None if value == p.default else value


@functools.cache
def parameter_groups() -> dict[str, list[Parameter]]:
    """The table's uncertainties by group, in table order: a row's ``group`` when the table gives
    one, else the section of ``model/params.py`` it is written in (the ``# ---- title ----``
    comments), without its "uncertainties:" prefix."""
    rows = [p for p in TABLE.values() if p.kind == "uncertainty"]
    section: dict[str, str] = {}
    if not all(getattr(p, "group", None) for p in rows):
        title = "Other"
        for line in inspect.getsource(params_module).splitlines():
            header = re.match(r"\s*# -+ (.+?) -*$", line)
            if header:
                title = re.sub(r"^(uncertainties|version \d+): ", "", header.group(1))
                title = title[:1].upper() + title[1:]
            row = re.match(r'\s*_p\("(\w+)"', line)
            if row:
                section[row.group(1)] = title
    groups: dict[str, list[Parameter]] = {}
    for p in rows:
        groups.setdefault(getattr(p, "group", None) or section.get(p.name, "Other"), []).append(p)
    return groups


def levers() -> list[Parameter]:
    """The table's levers, in table order."""
    return [p for p in TABLE.values() if p.kind == "lever"]


class AppModel(EscalationModel):
    """:class:`EscalationModel`, built from the page's values.

    ``rng`` may be text (the seed box); the other keywords are the controls a user moved (any
    other parameter keeps the table's value). Bad input (a seed that is not an integer in range,
    a combination the table forbids) does not raise: the model keeps the message in
    :attr:`input_error`, shows it on the page and will not step. Otherwise the run is exactly
    ``EscalationModel(Params(values), rng=seed)``.
    """

    def __init__(self, rng: int | str | None = DEFAULT_SEED, **values: Any) -> None:
        self.input_error: str | None = None
        try:
            seed = parse_seed(rng)
            params = Params(values)
        except ParameterError as error:
            self.input_error = str(error)
            seed, params = DEFAULT_SEED, Params()
        super().__init__(params, rng=seed)
        self.running = self.input_error is None
        self.forgone: dict[int, tuple[float, float]] = {}
        """Week -> (standard intensity, held intensity) for the weeks whose exercise of the
        standard calendar was not held in full (suspended, scaled down or delayed)."""

    def step(self) -> None:
        """One week of :class:`EscalationModel` (nothing while the input is bad); notes a week
        whose held exercise fell short of the standard calendar's."""
        if self.input_error is None:
            standard = float(self.levers.week(self.steps)["standard_exercise"])
            super().step()
            held = float(self.exercise_intensity)
            if held < standard:
                self.forgone[self.steps] = (standard, held)


def parse_seed(text: int | str | None) -> int:
    """The seed box's text as a seed; :class:`ParameterError` with one line when it is not one."""
    if text is None:
        return DEFAULT_SEED
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ParameterError(f"seed {text!r} is not an integer; give one from 0 to 2**64-1") from None
    if not 0 <= seed < 2**64:
        raise ParameterError(f"seed {seed} is out of range; give one from 0 to 2**64-1")
    return seed


# ---------------------------------------------------------------------------------------------
# weekly series, events, outcomes
# ---------------------------------------------------------------------------------------------


@functools.cache
def series_dtypes() -> dict[str, Any]:
    """Each weekly series' dtype, as the model's :meth:`~EscalationModel.trajectory` gives it
    (read from a one-week run, so that it is known before the first step)."""
    return dict(EscalationModel(rng=0).run(1).trajectory().dtypes)


def weeks_run(model: EscalationModel) -> int:
    """Weeks the model has simulated (count the weeks collected: :class:`AppModel` refuses to
    step on bad input)."""
    collected = model.datacollector.model_vars if model.datacollector is not None else {}
    return len(next(iter(collected.values()), []))


def weekly_series(model: EscalationModel) -> pd.DataFrame:
    """The run's weekly series so far (``week`` and every series; no rows before the first step)."""
    if weeks_run(model) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in series_dtypes().items()})
    return model.trajectory()


def _is_count(dtype: Any) -> bool:
    return pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def series_groups(
    columns: Sequence[str] = tuple(SERIES), dtypes: Mapping[str, Any] | None = None
) -> dict[str, list[str]]:
    """The weekly series grouped for plotting, by rule (so new series find a place by themselves):

    * series with integer values (stages, counts, rungs) together, drawn as steps;
    * series named ``trust_*`` together, on a log scale;
    * series that share their first word (``dprk_stress``, ``dprk_threat``) together;
    * the rest together.

    Every series appears in exactly one group; the title lists its series.
    """
    dtypes = series_dtypes() if dtypes is None else dtypes
    groups: dict[str, list[str]] = {}
    counts = [c for c in columns if _is_count(dtypes.get(c))]
    trust = [c for c in columns if c.startswith("trust_") and c not in counts]
    rest = [c for c in columns if c not in counts and c not in trust]
    by_word: dict[str, list[str]] = {}
    for c in rest:
        by_word.setdefault(c.split("_")[0], []).append(c)
    shared = [c for members in by_word.values() if len(members) > 1 for c in members]
    if counts:
        groups["Stages and counts: " + ", ".join(counts)] = counts
    for word, members in by_word.items():
        if len(members) > 1:
            groups[f"{word.upper() if len(word) <= 4 else word.capitalize()}: " + ", ".join(members)] = members
    others = [c for c in rest if c not in shared]
    if others:
        groups["Levels and rates: " + ", ".join(others)] = others
    if trust:
        groups["Trust (log scale): " + ", ".join(trust)] = trust
    return groups


def series_figure(frame: pd.DataFrame, title: str, columns: Sequence[str], weeks: int = DEFAULT_WEEKS) -> Figure:
    """One group's plot: a line per series against the week (steps for integer series, a log
    axis for trust). The time axis spans ``weeks`` (or the weeks run, when more); before the
    first week the plot says so, on the axes the run will fill."""
    fig = Figure(figsize=(6.4, 2.8), layout="constrained")
    ax = fig.subplots()
    log = title.startswith("Trust")
    for column in columns:
        name = lever_name(column) if column in LABELS else column.replace("_", " ")
        if frame.empty:
            ax.plot([], [], label=name)
        elif _is_count(frame[column].dtype):
            ax.step(frame["week"], frame[column], where="post", label=name)
        else:
            ax.plot(frame["week"], frame[column], label=name)
    last = int(frame["week"].max()) if not frame.empty else 0
    ax.set_xlim(0, max(weeks, last))
    if log:
        ax.set_yscale("log")
    if frame.empty:
        ax.set_ylim(*((1e-3, 1) if log else (0, 1)))
        ax.text(0.5, 0.5, "press Step to run the first week", transform=ax.transAxes, ha="center", color="0.4")
    elif not log:
        low = min(0.0, float(frame[list(columns)].min().min()))
        ax.set_ylim(low, max(1.0, float(frame[list(columns)].max().max())) * 1.05)
    ax.set_xlabel("week")
    ax.set_title(title.split(":")[0], fontsize="medium")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)  # beside, off the lines
    ax.grid(color="0.92", lw=0.5)
    return fig


JUMP = 0.01
"""A float series' change counts as an event when it leaves a plateau (the same value the two
weeks before) by more than this share of its value (a new sanctions package, an exercise season
starting or ending), so that series drifting week by week are not logged."""


def events(frame: pd.DataFrame, forgone: Mapping[int, Any] | None = None) -> list[tuple[int, str]]:
    """The run's events, week by week, read from its weekly series by rule (nothing is written
    per series): tests with their rung; every change of an integer-valued series (the talks
    stage, and any stage or count a model version adds); every jump of a float series off a
    plateau (:data:`JUMP`: sanctions packages, exercise seasons); and, from ``forgone`` (the weeks
    of :attr:`AppModel.forgone`), each stretch of weeks whose standard exercise was not held in
    full (suspended, scaled down or delayed). Returns ``(week, text)`` pairs in order."""
    out: list[tuple[int, str]] = []
    forgone = forgone or {}
    rows = frame.to_dict("records")
    counts = [c for c in frame.columns if c not in ("week", "tests", "test_rung") and _is_count(frame[c].dtype)]
    floats = [c for c in frame.columns if c != "week" and c not in counts and not _is_count(frame[c].dtype)]
    for i, row in enumerate(rows):
        week = int(row["week"])
        if row.get("tests", 0) > 0:
            rung = f" at rung {int(row['test_rung'])}" if "test_rung" in row else ""
            out.append((week, f"{int(row['tests'])} test{'s' if row['tests'] > 1 else ''}{rung}"))
        for column in counts:
            before = rows[i - 1][column] if i else 0
            if row[column] != before:
                out.append((week, f"{column}: {_number(before)} -> {_number(row[column])}"))
        if i >= 2:
            for column in floats:
                a, b, now = rows[i - 2][column], rows[i - 1][column], row[column]
                if a == b and abs(now - b) > JUMP * max(abs(b), abs(now)):
                    out.append((week, f"{column}: {_number(b)} -> {_number(now)}"))
        if week in forgone and week - 1 not in forgone:
            end = week
            while end + 1 in forgone:
                end += 1
            span = f"week {week}" if end == week else f"weeks {week}-{end}"
            out.append((week, f"standard exercise not held in full ({span}; suspended, scaled down or delayed)"))
    return out


# ---------------------------------------------------------------------------------------------
# page components
# ---------------------------------------------------------------------------------------------

CONTROL_CLASS = "param-"
"""CSS class prefix of a parameter's control (``param-sanctions_level``), by which tests and
scripts find it."""


@solara.component
def ParameterControl(p: Parameter, moved: solara.Reactive[dict]):
    """One parameter's control: its name and current value, a slider (or a list), and a line
    with unit, range and default. Only a move away from the default reaches :data:`moved`."""
    value = moved.value.get(p.name, p.default)

    def on_value(new: Any) -> None:
        if p.dtype is int and new is not None:
            new = int(new)
        changed = moved_value(p, new)
        rest = {k: v for k, v in moved.value.items() if k != p.name}
        moved.set(rest if changed is None else {**rest, p.name: changed})

    shown = str(value).lower() if p.dtype is bool else _number(value)
    solara.Markdown(
        f"**{p.name}** = `{shown}`" + (" (moved)" if p.name in moved.value else ""),
        style={"font-size": "12px", "margin-bottom": "-14px"},
    )
    common: dict[str, Any] = {
        "class_": CONTROL_CLASS + p.name,
        "hint": control_hint(p),
        "persistent_hint": True,
        "dense": True,
    }
    if p.choices is not None:
        solara.v.Select(v_model=value, items=list(p.choices), on_v_model=on_value, **common)
    elif p.dtype is bool:
        solara.v.Checkbox(v_model=value, label=p.meaning, on_v_model=on_value, **common)
    else:
        low, high = _bounds(p)
        step = 1 if p.dtype is int else slider_step(p)
        solara.v.Slider(v_model=value, min=low, max=high, step=step, on_v_model=on_value, **common)


@solara.component
def Controls(moved: solara.Reactive[dict]):
    """The levers, then the uncertainties by group, each group folded."""
    with solara.Card("Levers (the policies)"):
        for p in levers():
            ParameterControl(p, moved)
    with solara.Card("Uncertainties (folded by group)"):
        with solara.v.ExpansionPanels(v_model=[], multiple=True, accordion=True):
            for title, rows in parameter_groups().items():
                with solara.v.ExpansionPanel():
                    changed = sum(p.name in moved.value for p in rows)
                    solara.v.ExpansionPanelHeader(
                        children=[f"{title} ({len(rows)})" + (f", {changed} moved" if changed else "")]
                    )
                    with solara.v.ExpansionPanelContent():
                        for p in rows:
                            ParameterControl(p, moved)


@solara.component
def RunStatus(model: AppModel, moved: solara.Reactive[dict], tick: int = 0):
    """Week, seed, the parameters this run changed from the table's values, controls moved
    since (they apply on Reset), and any input error."""
    if model.input_error:
        solara.Error(f"bad input: {model.input_error}; nothing runs until it is fixed (then press Reset)")
    changed = model.params.changed()
    pending = {k: v for k, v in moved.value.items() if changed.get(k) != v}
    pending.update({k: "default" for k in changed if k not in moved.value})
    lines = [
        f"**Week {weeks_run(model)}** &nbsp; seed {model.seed} &nbsp; "
        + (
            "parameters changed from the table's values: "
            + ", ".join(f"`{k}={_number(v)}`" for k, v in changed.items())
            if changed
            else "all parameters at the table's values"
        )
    ]
    if pending:
        lines.append("Moved, applies on **Reset**: " + ", ".join(f"`{k}={_number(v)}`" for k, v in pending.items()))
    lines.append("**Step** runs the weeks per step; **Reset** starts again with the seed and the moved controls.")
    solara.Markdown("\n\n".join(lines))


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


@solara.component
def SeriesPlot(model: AppModel, title: str, columns: list[str], tick: int):
    """One group of :func:`series_groups`, drawn again only when the model or ``tick`` (bumped by
    each step) changes."""
    png = solara.use_memo(
        lambda: figure_png(series_figure(weekly_series(model), title, columns)), [id(model), tick, title]
    )
    solara.Image(png)


@solara.component
def EventLog(model: AppModel, tick: int):
    """The run's events so far, newest first."""
    found = events(weekly_series(model), model.forgone)
    with solara.Card("Event log"):
        if not found:
            solara.Text("no events yet" if weeks_run(model) else "step the model to see its events")
        else:
            solara.Markdown(
                "\n".join(f"- week {w}: {text}" for w, text in reversed(found)),
                style={"max-height": "300px", "overflow-y": "auto"},
            )


@solara.component
def Outcomes(model: AppModel, tick: int):
    """The run's outcomes so far (:meth:`EscalationModel.outcomes`)."""
    outcomes = model.outcomes()
    rows = "\n".join(
        f"| {k} | {'-' if isinstance(v, float) and math.isnan(v) else _number(v)} |" for k, v in outcomes.items()
    )
    with solara.Card(f"Outcomes after {weeks_run(model)} weeks"):
        solara.Markdown("| outcome | value |\n|---|---|\n" + rows, style={"max-height": "300px", "overflow-y": "auto"})


@solara.component
def RunPage(model: solara.Reactive[AppModel] | None = None):
    """The page: controls in the sidebar, the run's status, plots, events and outcomes. ``model``
    (optional) is the reactive holding the page's model, for a caller that reads it."""
    first = solara.use_memo(AppModel, [])
    own: solara.Reactive[AppModel] = solara.use_reactive(first)
    model = model if model is not None else own
    moved: solara.Reactive[dict] = solara.use_reactive({})
    seed = solara.use_reactive(str(DEFAULT_SEED))
    per_step = solara.use_reactive(1)
    tick = solara.use_reactive(0)

    def reset() -> None:
        model.set(AppModel(rng=seed.value, **moved.value))
        tick.set(tick.value + 1)

    def step() -> None:
        for _ in range(per_step.value):
            model.value.step()
        tick.set(tick.value + 1)

    def defaults() -> None:
        moved.set({})

    solara.Title("Korea escalation: one run")
    with solara.Sidebar():
        with solara.Card("Run"):
            solara.InputText("seed (integer 0 to 2**64-1)", value=seed, continuous_update=True)
            solara.SliderInt("weeks per Step", value=per_step, min=1, max=DEFAULT_WEEKS)
            with solara.Row():
                solara.Button("Reset", color="primary", on_click=reset)
                solara.Button("Step", color="primary", on_click=step, disabled=not model.value.running)
                solara.Button("Table values", on_click=defaults, text=True)
        Controls(moved)
    current = model.value
    with solara.Column(style={"padding": "8px"}):
        RunStatus(current, moved, tick.value)
        with solara.ColumnsResponsive(12, large=6):
            for title, columns in series_groups().items():
                SeriesPlot(current, title, columns, tick.value)
        with solara.Columns([1, 1]):
            EventLog(current, tick.value)
            Outcomes(current, tick.value)


page = RunPage()
"""The page (display it in a notebook; ``escalation app`` serves it at ``/``)."""
