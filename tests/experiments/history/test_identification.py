"""The identification report: what a posterior sample says the record informs."""

import numpy as np
import pandas as pd
import pytest

from experiments.history.checks import identification


def test_prior_like_narrow_and_correlated_parameters_are_told_apart():
    rng = np.random.default_rng(4)
    n = 20_000
    a = rng.uniform(0, 1, n)  # the posterior is the uniform prior: 90% interval 0.9 of the width
    b = rng.normal(0.5, 0.05, n)  # narrow: 2 * 1.645 * 0.05 = 0.16 of a unit prior
    c = b + rng.normal(0, 0.02, n)  # strongly correlated with b
    frame = pd.DataFrame({"a": a, "b": b, "c": c, "weight": np.ones(n)})
    out = identification(frame, ("a", "b", "c"), {"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 1, "c": 1})
    assert out["width_ratio"]["a"] == pytest.approx(0.9, abs=0.01)
    assert out["width_ratio"]["b"] == pytest.approx(0.1645, abs=0.01)
    assert out["not_informed"] == ["a"]
    assert [p[:2] for p in out["correlated_pairs"]] == [["b", "c"]]
    assert out["effective_sample_size"] == n
    # unequal weights shrink the effective sample size: half the particles carry all the weight
    frame["weight"] = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    assert identification(frame, ("a",), {"a": 0}, {"a": 1})["effective_sample_size"] == n // 2
