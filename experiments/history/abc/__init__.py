"""Calibration of the parameters the record can inform, by approximate Bayesian computation
(ABC) with sequential Monte Carlo (ABC-SMC / population Monte Carlo: Toni et al. 2009,
Beaumont et al. 2009), on the batched engine.

1. Prior: independent uniforms over the parameter table's ranges; :meth:`Calibration.intervals`
   prints the bounds actually sampled.
2. Each proposal is replayed ``replicates`` times (10 by default) through the historical
   scenario. The summaries (:mod:`experiments.history.summaries`: launches, months with a launch,
   nuclear tests and the rung mix by year, nuclear-test timing, inter-launch gaps, launches in
   exercise months, the lag from a major test to the next resolution, the milestones of talks)
   of each replay are compared with the record's by the scaled Euclidean distance
   ``d = sqrt(sum_j (x_j - obs_j)^2 / scale_j^2)``, each statistic scaled by its simulated
   spread (the pooled within-particle standard deviation, the simulation noise): first over the
   prior draws, then, once, over the first population (Prangle 2017).
3. A particle's ABC likelihood at a tolerance is estimated by the share of its replays within
   it (:func:`acceptance_share`: unbiased, Bornn et al. 2017), and its importance weight is
   proportional to that share (Del Moral, Doucet and Jasra 2012), so the weighted sample
   targets the exact ABC posterior at that tolerance: replays are noise to average over, not a
   mean to fit. (Before December 2026 particles were ranked by their expected squared distance
   over the replays, which rewards small simulation variance as much as a close mean and made
   the posteriors overconfident: docs/ODD.md section 9.) Generation 0 draws ``population /
   accept`` parameter sets from the prior and keeps the ``population`` whose nearest replay is
   closest, at the smallest tolerance that keeps a replay of each (ABC rejection, Pritchard et
   al. 1999). Each later generation sets its tolerance to the median distance of the replays
   the previous population accepts (:func:`next_tolerance`), proposes by resampling the
   previous population by weight and perturbing with a Gaussian kernel of twice its weighted
   variance (:func:`kernel_spread`), and keeps proposals inside the prior with at least one
   replay within the tolerance until it has ``population`` of them; weights are
   share x prior / sum_j w_j K(theta | theta_j). A generation that cannot fill its population
   within ``max_simulations_per_generation`` ends the run, keeping the previous one (its
   tolerance has reached the simulation noise).
4. The posterior sample is the last population with its weights (the product: posterior sweeps
   draw from it). The calibrated values, a point the policy sweep can start from, are a jointly
   feasible central particle: among the particles whose share of replays within the final
   tolerance (their estimated ABC likelihood) is at least the weighted median share, the one
   nearest the weighted posterior median in prior-scaled space (the
   posterior is correlated, so the vector of marginal medians need not itself fit; the single
   closest particle sits in a corner). The default start state of the policy sweep (26 February
   2018) is the median replayed state on that date under the calibrated values.

Work is cut into blocks of particles, each block with its own random streams (proposals and
replicate seeds depend only on the seed, the generation and the block), and run on any
``concurrent.futures`` executor (the sweeps' process pool or Dask client, passed in by the
caller) or in this process; results are consumed in block order, so the numbers never depend on the executor.
With ``out``, every finished generation is saved there (``generation_NN.parquet`` and
``.json``) and a rerun with the same settings continues after the last one.

Facts F1 (the 2016-17 surge), F3 (the 2018 pause) and F4 (first talks) are fitted through
these summaries; F2 (launches around the UN resolutions) and F5 (the mediator moves first) are
not targets and stay checks.

``model/calibrated.toml`` holds the result; the parameter table's defaults cite and read it.

The package has pyabc's shape: :mod:`.prior` (the uniform prior), :mod:`.sampler` (blocks of
replays on any executor), :mod:`.distance` (scaled distance, acceptance share),
:mod:`.epsilon` (the tolerance schedule), :mod:`.transition` (the proposal kernel and the
importance weights), :mod:`.storage` (generations saved and resumed; the result written),
:mod:`.result` (the posterior and the calibrated point), :mod:`.smc` (:func:`calibrate`, which
composes them) and :mod:`.effects` (fact F2 over the posterior).
"""

from __future__ import annotations

from .distance import (
    LOGGED_KINDS,
    acceptance_share,
    distance_space,
    expected_distance,
    logged_summaries,
    noise_scales,
    replicate_distances,
)
from .effects import F2_STREAM, resolution_effect_over_posterior, resolution_effect_summary
from .epsilon import first_tolerance, next_tolerance
from .prior import CALIBRATED_PARAMETERS, UniformPrior, _prior_bounds, prior_bounds
from .result import ACCEPTANCE, FACTS_CHECKED, FACTS_FITTED, Calibration, central_particle
from .sampler import (
    SEED_STREAM,
    Block,
    block_seeds,
    observed_summaries,
    ordered_results,
    run_block,
    run_block_replicates,
    simulated_summaries,
)
from .smc import MAX_FIRST_DRAWS, PROPOSAL_STREAM, calibrate
from .storage import install_calibration, read_calibrated, write_calibration
from .transition import _smc_weights, _truncated_normal, kernel_spread, propose
from .weighted import credible_intervals, strongest_pairs, weighted_correlations, weighted_quantile

__all__ = [
    "ACCEPTANCE",
    "CALIBRATED_PARAMETERS",
    "F2_STREAM",
    "FACTS_CHECKED",
    "FACTS_FITTED",
    "LOGGED_KINDS",
    "MAX_FIRST_DRAWS",
    "PROPOSAL_STREAM",
    "SEED_STREAM",
    "Block",
    "Calibration",
    "UniformPrior",
    "_prior_bounds",
    "_smc_weights",
    "_truncated_normal",
    "acceptance_share",
    "block_seeds",
    "calibrate",
    "central_particle",
    "credible_intervals",
    "distance_space",
    "expected_distance",
    "first_tolerance",
    "install_calibration",
    "kernel_spread",
    "logged_summaries",
    "next_tolerance",
    "noise_scales",
    "observed_summaries",
    "ordered_results",
    "prior_bounds",
    "propose",
    "read_calibrated",
    "replicate_distances",
    "resolution_effect_over_posterior",
    "resolution_effect_summary",
    "run_block",
    "run_block_replicates",
    "simulated_summaries",
    "strongest_pairs",
    "weighted_correlations",
    "weighted_quantile",
    "write_calibration",
]
