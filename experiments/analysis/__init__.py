"""Analysis of a finished sweep: functions of a :class:`~experiments.sweep.results.SweepResult`
or of its rows. The names below are the public ones (``from experiments import analysis``)."""

from .contrasts import (ANALYSIS_COLUMNS, EVENT_WEEKS, EVENTS, HIGHEST_RUNGS, ModelChangedWarning,  # noqa: F401
                        default_baseline, event_probabilities, load, matches, median_weeks, pair_keys,
                        paired_contrasts, parse_policy, policy_contrasts, posterior_spread, survival_curves,
                        testing_cost, time_to_event, trajectories, with_events)
from .estimates import summary, write_summary  # noqa: F401
from .report import write_report  # noqa: F401
