"""Global sensitivity analysis that separates the parameters from the simulation's own noise.

``escalation sensitivity CONFIG`` screens every uncertainty with the method of Morris, then
estimates Sobol' first-order and total indices for the parameters that matter, both with SALib's
:class:`~SALib.util.problem.ProblemSpec` on the batched engine.

* :mod:`.plan` -- what to run: settings, parameters and ranges, outcomes (from a config);
* :mod:`.run` -- running the points (common random numbers) and the result;
* :mod:`.indices` -- Morris and Sobol' with errors over points and seeds, and their verdicts;
* :mod:`.report` -- Markdown, figures, files and the command.

Where the ranges come from
    The config's ``[uncertainties]`` table (its ``{low, high}`` ranges); else the support of the
    calibration posterior named by ``[posterior]`` (the smallest box holding every particle, each
    parameter sampled uniformly over it: the box, not the posterior density); else every
    real-valued row of kind ``uncertainty`` in :data:`model.params.TABLE`, over its allowed range,
    minus those the config fixes in ``[params]``. Levers are fixed (``[params]``, or one value each
    under ``[levers]``); everything else keeps its default, so every index is conditional on the
    parameters held at their defaults.
"""

from .indices import morris, seed_overlap, sobol, sobol_estimates, top_parameters, variance_split
from .plan import SensitivityPlan, Settings, load_plan, posterior_support, table_ranges
from .report import main, markdown, write
from .run import SensitivityResult, evaluate, run_plan

__all__ = [
    "SensitivityPlan",
    "SensitivityResult",
    "Settings",
    "evaluate",
    "load_plan",
    "main",
    "markdown",
    "morris",
    "posterior_support",
    "run_plan",
    "seed_overlap",
    "sobol",
    "sobol_estimates",
    "table_ranges",
    "top_parameters",
    "variance_split",
    "write",
]
