"""The design of a sweep: lever combinations in the config's order, Latin hypercube strata,
chunks and shards that cover every run once, and common random numbers across policies."""

import numpy as np
import pytest

from experiments.seeds import replicate_seeds
from experiments.sweep.design import Design, latin_hypercube


def test_the_points_are_every_lever_combination_in_the_configs_order(smoke):
    design = Design(smoke)
    levers = smoke.levers
    assert design.n_points == np.prod([len(v) for v in levers.values()]) and list(design.points.columns) == list(levers)
    first, last = design.points.iloc[0].to_dict(), design.points.iloc[-1].to_dict()
    assert first == {name: values[0] for name, values in levers.items()}
    assert last == {name: values[-1] for name, values in levers.items()}
    assert all(
        p.sanctions_level == row.sanctions_level
        for p, row in zip(design.params, design.points.itertuples(), strict=True)
    )


@pytest.mark.parametrize("shard_count", [1, 3])
def test_chunks_and_shards_cover_every_run_once(smoke, shard_count):
    design = Design(smoke.with_options(chunk_size=7))
    covered = np.concatenate(
        [np.arange(c.start, c.stop) for i in range(shard_count) for c in design.chunks((i, shard_count))]
    )
    assert np.array_equal(np.sort(covered), np.arange(design.n_runs))
    assert max(len(c) for c in design.chunks()) == 7


def test_a_run_table_holds_its_points_replicates_and_the_same_seeds_under_every_policy(smoke):
    design = Design(smoke)
    table = design.run_table(design.chunks()[2])
    runs = table["run"].to_numpy()
    assert np.array_equal(table["design_point"].to_numpy(), runs // smoke.replicates)
    assert np.array_equal(table["replicate"].to_numpy(), runs % smoke.replicates)
    assert np.array_equal(
        table["seed"].to_numpy(), replicate_seeds(smoke.seed, smoke.replicates)[runs % smoke.replicates]
    )
    assert np.array_equal(design.point_seeds(0), design.point_seeds(design.n_points - 1))  # common random numbers


def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_each_range():
    ranges = {"hawkes_ratio": (0.0, 0.3), "test_baseline_rate": (0.1, 0.5)}
    points = latin_hypercube(ranges, 40, seed=3)
    assert len(points) == 40 and list(points.columns) == list(ranges)
    for name, (low, high) in ranges.items():
        strata = np.floor((points[name].to_numpy() - low) / (high - low) * 40).astype(int)
        assert sorted(strata.tolist()) == list(range(40)), name
    assert points.equals(latin_hypercube(ranges, 40, seed=3))
    assert not points.equals(latin_hypercube(ranges, 40, seed=4))
    assert len(latin_hypercube({}, 40, seed=3)) == 1  # no uncertainties: one scenario, no columns
