"""The calibration's names where other modules import them from: everything lives in
:mod:`experiments.history.abc` (prior, sampler, distance, epsilon, transition, storage, and
:func:`~experiments.history.abc.calibrate` composing them)."""

from .abc import (
    ACCEPTANCE as ACCEPTANCE,
)
from .abc import (
    CALIBRATED_PARAMETERS as CALIBRATED_PARAMETERS,
)
from .abc import (
    F2_STREAM as F2_STREAM,
)
from .abc import (
    FACTS_CHECKED as FACTS_CHECKED,
)
from .abc import (
    FACTS_FITTED as FACTS_FITTED,
)
from .abc import (
    LOGGED_KINDS as LOGGED_KINDS,
)
from .abc import (
    MAX_FIRST_DRAWS as MAX_FIRST_DRAWS,
)
from .abc import (
    PROPOSAL_STREAM as PROPOSAL_STREAM,
)
from .abc import (
    SEED_STREAM as SEED_STREAM,
)
from .abc import (
    Block as Block,
)
from .abc import (
    Calibration as Calibration,
)
from .abc import (
    UniformPrior as UniformPrior,
)
from .abc import (
    _prior_bounds as _prior_bounds,
)
from .abc import (
    _smc_weights as _smc_weights,
)
from .abc import (
    _truncated_normal as _truncated_normal,
)
from .abc import (
    acceptance_share as acceptance_share,
)
from .abc import (
    block_seeds as block_seeds,
)
from .abc import (
    calibrate as calibrate,
)
from .abc import (
    central_particle as central_particle,
)
from .abc import (
    credible_intervals as credible_intervals,
)
from .abc import (
    distance_space as distance_space,
)
from .abc import (
    expected_distance as expected_distance,
)
from .abc import (
    first_tolerance as first_tolerance,
)
from .abc import (
    install_calibration as install_calibration,
)
from .abc import (
    kernel_spread as kernel_spread,
)
from .abc import (
    logged_summaries as logged_summaries,
)
from .abc import (
    next_tolerance as next_tolerance,
)
from .abc import (
    noise_scales as noise_scales,
)
from .abc import (
    observed_summaries as observed_summaries,
)
from .abc import (
    ordered_results as ordered_results,
)
from .abc import (
    prior_bounds as prior_bounds,
)
from .abc import (
    propose as propose,
)
from .abc import (
    read_calibrated as read_calibrated,
)
from .abc import (
    replicate_distances as replicate_distances,
)
from .abc import (
    resolution_effect_over_posterior as resolution_effect_over_posterior,
)
from .abc import (
    resolution_effect_summary as resolution_effect_summary,
)
from .abc import (
    run_block as run_block,
)
from .abc import (
    run_block_replicates as run_block_replicates,
)
from .abc import (
    simulated_summaries as simulated_summaries,
)
from .abc import (
    strongest_pairs as strongest_pairs,
)
from .abc import (
    weighted_correlations as weighted_correlations,
)
from .abc import (
    weighted_quantile as weighted_quantile,
)
from .abc import (
    write_calibration as write_calibration,
)
