"""Analysis of a finished sweep: functions of a :class:`~experiments.sweep.results.SweepResult`
(or of its rows). ``from experiments import analysis`` gives the public names below.

* :mod:`.estimates`: the one table of per-policy estimates (:func:`summary` of a sweep,
  :func:`summarise` of rows), which ``summary.csv``, the report and the figures read;
* :mod:`.contrasts`: each policy minus a baseline on the same replicates (:func:`policy_contrasts`);
* :mod:`.survival`: Kaplan-Meier curves of the time to talks (:func:`time_to_event`);
* :mod:`.trajectories`: weekly series re-run with the sweep's seeds;
* :mod:`.plots` and :mod:`.report`: the figures and ``report.md`` (:func:`write_report`).
"""

from .contrasts import (
    default_baseline,
    matches,
    paired_contrasts,
    parse_policy,
    policy_contrasts,
)
from .estimates import (
    ANALYSIS_COLUMNS,
    EVENTS,
    HIGHEST_RUNGS,
    event_probabilities,
    format_table,
    load,
    posterior_spread,
    summarise,
    summary,
    testing_cost,
    with_events,
    write_summary,
)
from .report import write_report
from .survival import EVENT_WEEKS, median_weeks, survival_curves, time_to_event
from .trajectories import ModelChangedWarning, trajectories

__all__ = [
    "ANALYSIS_COLUMNS",
    "EVENTS",
    "EVENT_WEEKS",
    "HIGHEST_RUNGS",
    "ModelChangedWarning",
    "default_baseline",
    "event_probabilities",
    "format_table",
    "load",
    "matches",
    "median_weeks",
    "paired_contrasts",
    "parse_policy",
    "policy_contrasts",
    "posterior_spread",
    "summarise",
    "summary",
    "survival_curves",
    "testing_cost",
    "time_to_event",
    "trajectories",
    "with_events",
    "write_report",
    "write_summary",
]
