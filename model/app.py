"""The interactive page for one run (Mesa's convention: ``app.py`` beside ``model.py``).

Built on Mesa's :func:`~mesa.visualization.SolaraViz`. Everything on the page is generated,
nothing is written per variable:

* the controls come from the parameter table (:data:`model.params.TABLE`): one per lever and
  per uncertainty, a slider over the table's range (a list for the categorical levers, a
  checkbox for switches), starting at the table's default, labelled with its unit, allowed
  values and default; plus the seed. As in every Mesa app, new values apply on **Reset**;
* the plots show every weekly series the model collects (:data:`model.week.SERIES`),
  grouped by :func:`series_groups` (count-valued series together, trust on a log scale, series
  sharing their first word together, the rest together);
* the event log (:func:`events`) reads the same series week by week; the outcomes are
  :meth:`EscalationModel.outcomes`.

The model on the page is :class:`EscalationModel` itself (:class:`AppModel` only turns the
widgets' values into its arguments), run by Mesa's step / play / reset controls, so it is the
model the sweeps run: the same seed and parameters give the same numbers as ``escalation run``.

From a shell: ``escalation app`` (this page and the sweep explorer), or ``solara run
model/app.py``. From a notebook::

    from model.app import page
    page            # the last expression of a cell displays the page
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from .model import EscalationModel
from .params import TABLE, Parameter, ParameterError, Params
from .week import SERIES

DEFAULT_SEED = 1
"""Seed of the run the page opens with (as ``escalation run``'s default)."""

CONTROL_KINDS = ("lever", "uncertainty")
"""Kinds of parameter that get a control; the constants (structure, dates) keep their defaults."""

SIDEBAR_CSS = """
.v-navigation-drawer .v-input__slider .v-label { flex: 0 0 60%; white-space: normal; font-size: 12px; }
"""
"""Slider labels wrap within 60% of the sidebar, so that the long labels (unit, range, default)
leave room for the sliders."""

SLIDER_STEPS = 100
"""A float slider moves in steps of about 1/100 of its range (a power of ten)."""


# ---------------------------------------------------------------------------------------------
# controls, from the parameter table
# ---------------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def control_label(p: Parameter) -> str:
    """The label of a parameter's control: name, unit, allowed values and default."""
    default = str(p.default).lower() if p.dtype is bool else _number(p.default)
    return f"{p.name} [{p.unit}; {p.allowed}; default {default}]"


def slider_step(p: Parameter) -> float:
    """The step of a float slider: the power of ten nearest 1/:data:`SLIDER_STEPS` of the range."""
    low, high = _bounds(p)
    return 10.0 ** math.floor(math.log10((high - low) / SLIDER_STEPS))


def _bounds(p: Parameter) -> tuple[float, float]:
    """A numeric row's range (every int and float row of the table has one)."""
    if p.low is None or p.high is None:
        raise ValueError(f"{p.name} has no range")
    return p.low, p.high


def control(p: Parameter) -> dict[str, Any]:
    """The Mesa user-input description (``model_params`` entry) of one table row."""
    label = control_label(p)
    if p.choices is not None:
        return {"type": "Select", "value": p.default, "values": list(p.choices), "label": label}
    if p.dtype is bool:
        return {"type": "Checkbox", "value": p.default, "label": label}
    if p.dtype is int:
        return {
            "type": "SliderInt",
            "value": p.default,
            "min": int(_bounds(p)[0]),
            "max": int(_bounds(p)[1]),
            "step": 1,
            "label": label,
        }
    if p.dtype is float:
        return {
            "type": "SliderFloat",
            "value": p.default,
            "min": p.low,
            "max": p.high,
            "step": slider_step(p),
            "label": label,
        }
    return {"type": "InputText", "value": str(p.default), "label": label}


def model_params(kinds: Sequence[str] = CONTROL_KINDS) -> dict[str, dict[str, Any]]:
    """Mesa ``model_params`` for :func:`SolaraViz`: the seed, then one control per table row of
    the given kinds (levers first, then uncertainties, each in table order)."""
    controls: dict[str, dict[str, Any]] = {
        "rng": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "seed [integer 0 to 2**64-1]"},
    }
    for kind in kinds:
        controls.update({p.name: control(p) for p in TABLE.values() if p.kind == kind})
    return controls


class AppModel(EscalationModel):
    """:class:`EscalationModel`, built from the page's widget values.

    ``rng`` may be text (the seed box); the other keywords are table parameters. Bad input (a
    seed that is not an integer in range, a combination the table forbids) does not raise: the
    model keeps the message in :attr:`input_error`, shows it on the page and will not step.
    Otherwise the run is exactly ``EscalationModel(params, rng=seed)``.
    """

    def __init__(self, rng: int | str | None = DEFAULT_SEED, scenario: Any = None, **values: Any) -> None:
        # Mesa's Reset passes its default ``scenario`` too; every parameter comes from the table.
        self.input_error: str | None = None
        try:
            seed = _parse_seed(rng)
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


def _parse_seed(text: int | str | None) -> int:
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


def weekly_series(model: EscalationModel) -> pd.DataFrame:
    """The run's weekly series so far (``week`` and every series; no rows before the first step)."""
    if weeks_run(model) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in series_dtypes().items()})
    return model.trajectory()


def weeks_run(model: EscalationModel) -> int:
    """Weeks the model has simulated (Mesa counts a call of ``step`` even when :class:`AppModel`
    refuses to run one, so count the weeks collected)."""
    collected = model.datacollector.model_vars if model.datacollector is not None else {}
    return len(next(iter(collected.values()), []))


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
            groups[f"{word}: " + ", ".join(members)] = members
    others = [c for c in rest if c not in shared]
    if others:
        groups["Levels and rates: " + ", ".join(others)] = others
    if trust:
        groups["Trust (log scale): " + ", ".join(trust)] = trust
    return groups


def series_figure(frame: pd.DataFrame, title: str, columns: Sequence[str]) -> Figure:
    """One group's plot: a line per series against the week (steps for integer series, a log
    axis for trust)."""
    fig = Figure(figsize=(6, 3.4), layout="constrained")
    ax = fig.subplots()
    for column in columns:
        if frame.empty:
            ax.plot([], [], label=column)
        elif _is_count(frame[column].dtype):
            ax.step(frame["week"], frame[column], where="post", label=column)
        else:
            ax.plot(frame["week"], frame[column], label=column)
    if title.startswith("Trust"):
        ax.set_yscale("log")
    ax.set_xlabel("week")
    ax.set_title(title.split(":")[0], fontsize="medium")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize="small", frameon=False)
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


def make_series_component(title: str):
    """A page component drawing one group of :func:`series_groups`."""

    def SeriesPlot(model: AppModel):
        update_counter.get()
        frame = weekly_series(model)
        columns = series_groups().get(title, [])
        solara.FigureMatplotlib(series_figure(frame, title, columns), format="png")

    SeriesPlot.__name__ = f"SeriesPlot[{title.split(':')[0]}]"
    return SeriesPlot


@solara.component
def RunStatus(model: AppModel):
    """Week, seed, the parameters changed from the table's defaults, and any input error."""
    update_counter.get()
    solara.Style(SIDEBAR_CSS)
    if model.input_error:
        solara.Error(f"bad input: {model.input_error}; nothing runs until it is fixed (then press Reset)")
    changed = model.params.changed()
    solara.Markdown(
        f"**Week {weeks_run(model)}** &nbsp; seed {model.seed} &nbsp; "
        + (
            "parameters changed from the table's defaults: "
            + ", ".join(f"`{k}={_number(v)}`" for k, v in changed.items())
            if changed
            else "all parameters at the table's defaults"
        )
        + "\n\nNew control values apply on **Reset**; **Step** advances one week."
    )


@solara.component
def EventLog(model: AppModel):
    """The run's events so far, newest first."""
    update_counter.get()
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
def Outcomes(model: AppModel):
    """The run's outcomes so far (:meth:`EscalationModel.outcomes`)."""
    update_counter.get()
    outcomes = model.outcomes()
    rows = "\n".join(
        f"| {k} | {'-' if isinstance(v, float) and math.isnan(v) else _number(v)} |" for k, v in outcomes.items()
    )
    with solara.Card(f"Outcomes after {weeks_run(model)} weeks"):
        solara.Markdown("| outcome | value |\n|---|---|\n" + rows, style={"max-height": "300px", "overflow-y": "auto"})


def components() -> list:
    """The page's components: status, one plot per group of weekly series, event log, outcomes."""
    plots = [make_series_component(title) for title in series_groups()]
    return [RunStatus, *plots, EventLog, Outcomes]


def make_page(model: AppModel | None = None, **kwargs: Any):
    """The SolaraViz page for ``model`` (default: the table's defaults, seed 1)."""
    model = model if model is not None else AppModel()
    return SolaraViz(
        model, components=components(), model_params=model_params(), name="Korea escalation: one run", **kwargs
    )


@solara.component
def Page():
    """The page as a Solara component (one model per browser session)."""
    model = solara.use_memo(AppModel, [])
    return make_page(model)


page = Page()
"""The page (display it in a notebook; ``solara run model/app.py`` serves it)."""
