"""Tests for experiments/analysis/survival.py: Kaplan-Meier curves from scipy.stats.ecdf."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import stats as st
from experiments.analysis import survival


@pytest.mark.parametrize("seed", range(5))
def test_scipy_curves_agree_with_the_former_implementation(seed):
    """Before the hand-written product-limit estimator is retired: on random censored data with
    ties (events and censorings at the same week, all-censored and all-event samples) the
    scipy-based curve has the same rows, counts and NaN pattern, and values within 1e-12."""
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n = int(rng.integers(1, 60))
        t = rng.integers(0, 20, n).astype(float)
        observed = rng.random(n) < rng.random()
        old, new = st.kaplan_meier(t, observed), survival.kaplan_meier(t, observed)
        assert list(new.columns) == list(old.columns)
        counts = ["time", "at_risk", "events", "censored"]
        pd.testing.assert_frame_equal(new[counts], old[counts], check_dtype=False)
        for column in ("survival", "ci_low", "ci_high"):
            np.testing.assert_allclose(new[column], old[column], rtol=0, atol=1e-12, equal_nan=True)
