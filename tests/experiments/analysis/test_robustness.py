"""Robust policy ranking: regret per draw, share best with ties, paired comparisons over draws."""

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.robustness import pairwise, per_draw, regret_table, section


def _rows():
    """Three policies x four draws x two replicates with known per-draw P(talks)."""
    p = {"A": [1.0, 0.5, 0.5, 1.0], "B": [0.5, 1.0, 0.5, 0.5], "C": [0.0, 0.0, 0.5, 0.0]}
    rows = []
    for policy, values in p.items():
        for s, v in enumerate(values):
            rows += [
                {"stance": policy, "scenario": s, "replicate": 0, "talks": True},
                {"stance": policy, "scenario": s, "replicate": 1, "talks": bool(v == 1.0)},
            ]
            if v == 0.0:
                rows[-2]["talks"] = False
    return pd.DataFrame(rows)


def test_regret_and_share_best_hand_computed():
    est = per_draw(_rows(), ["stance"], "talks")
    np.testing.assert_allclose(est[("A",)], [1.0, 0.5, 0.5, 1.0])
    table = regret_table(est, ["stance"]).set_index("stance")
    # best per draw: 1, 1, 0.5 (three-way tie), 1
    np.testing.assert_allclose(table.loc[["A", "B", "C"], "mean_regret"], [0.5 / 4, 1.0 / 4, 3.0 / 4])
    np.testing.assert_allclose(table.loc[["A", "B", "C"], "max_regret"], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(
        table.loc[["A", "B", "C"], "share_best"], [(2 + 1 / 3) / 4, (1 + 1 / 3) / 4, (1 / 3) / 4]
    )
    np.testing.assert_allclose(table.loc[["A", "B", "C"], "share_tied_best"], [0.75, 0.5, 0.25])
    assert table.index[0] == "A"  # sorted by mean regret
    assert np.isclose(table["share_best"].sum(), 1.0)


def test_pairwise_is_a_paired_t_over_draws_with_holm():
    est = per_draw(_rows(), ["stance"], "talks")
    versus = pairwise(est, ["stance"], reference=("A",)).set_index("stance")
    d = np.array([0.5, 1.0, 0.5, 0.5]) - np.array([1.0, 0.5, 0.5, 1.0])  # B - A per draw
    assert versus.at["B", "difference"] == pytest.approx(d.mean())
    half = 3.182446305284263 * d.std(ddof=1) / 2  # t_{3, 0.975} * sd / sqrt(4)
    assert versus.at["B", "ci_low"] == pytest.approx(d.mean() - half)
    assert (versus["p_holm"] >= versus["p"]).all()
    assert len(pairwise(est, ["stance"])) == 3  # every pair


def test_section_names_the_most_robust_policy():
    text, tables = section(_rows(), ["stance"], "talks", reference=("B",))
    assert "over 4 draws" in text and "(baseline)" in text and "| A |" in text
    assert "fixed in advance (B)" in text.replace("baseline fixed in advance", "fixed in advance")
    assert list(tables["regret"]["stance"]) == ["A", "B", "C"]
    assert set(tables["pairwise"]["vs_stance"]) == {"B"}
    # against the best: chosen on draws 0 and 2 (A: mean 0.75, best), judged on draws 1 and 3
    judged = tables["versus_chosen_best"].set_index("stance")
    assert set(judged["vs_stance"]) == {"A"}
    # on draws 1 and 3: A = [0.5, 1.0], B = [1.0, 0.5], C = [0.0, 0.0]
    assert judged.at["B", "regret"] == pytest.approx(0.0) and judged.at["C", "regret"] == pytest.approx(0.75)


def test_no_scenarios_is_a_clear_error():
    from experiments.errors import UserError

    with pytest.raises(UserError, match="scenarios"):
        per_draw(_rows().drop(columns="scenario"), ["stance"], "talks")


def test_shipped_uncertainty_config_report_shows_spread_and_robust_ranking(tmp_path):
    """The shipped [uncertainties] example, cut down: the report has the across-scenarios
    section, the robust ranking and the Holm-adjusted contrasts."""
    from conftest import ROOT

    from experiments.analysis.report import write_report
    from experiments.sweep.config import load_experiment
    from experiments.sweep.runner import run_sweep

    config = ROOT / "experiments" / "configs" / "policy_uncertain.toml"
    experiment = load_experiment(config).with_options(replicates=4)
    experiment = type(experiment)(
        **{**experiment.__dict__, "samples": 5, "levers": {**experiment.levers, "sanctions_level": [1.0]}}
    )
    run_sweep(experiment, tmp_path, workers=1, progress=False)
    write_report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "## Across the scenarios" in text and "90% of scenarios" in text
    assert "## Robust policy ranking: talks (higher is better) over 5 scenarios" in text
    assert "## Robust policy ranking: tests (lower is better)" in text
    assert "Holm p" in text
    regret = pd.read_csv(tmp_path / "robust_talks.csv")
    assert len(regret) == 10 and regret["mean_regret"].is_monotonic_increasing


def test_contrasts_over_draws_match_the_per_draw_differences():
    from experiments.analysis.robustness import contrasts_over_draws

    table = contrasts_over_draws(_rows(), ["stance"], {"stance": "A"}).set_index("stance")
    d = np.array([0.0, 0.0, 0.5, 0.0]) - np.array([1.0, 0.5, 0.5, 1.0])  # C - A per draw
    assert table.at["C", "difference"] == pytest.approx(d.mean())
    half = 3.182446305284263 * d.std(ddof=1) / 2
    assert (table.at["C", "ci_low"], table.at["C", "ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert table.at["A", "difference"] == 0 and table.at["A", "p_holm"] == 1
    assert table.at["C", "p_holm"] == pytest.approx(
        min(1.0, 2 * min(table.at["B", "p_value"], table.at["C", "p_value"]))
        if table.at["C", "p_value"] <= table.at["B", "p_value"]
        else max(2 * table.at["B", "p_value"], table.at["C", "p_value"])
    )


def test_identical_policies_are_rejected_at_about_the_nominal_family_wise_rate():
    """Twelve policies with the same distribution over 50 draws (a shared draw effect plus each
    policy's own noise), 400 sweeps: a baseline fixed in advance, and a best chosen on half of
    the draws and judged on the other half, reject some null (Holm p < 0.05) in about 5% of the
    sweeps or fewer (tolerance 3 binomial standard errors), and Hsu's comparisons with the best
    drop a given best (here every policy is one) from the candidates as rarely; judging against
    the best of the same draws, as the ranking once did, rejects far more often. The regret
    against the chosen best covers 0 at about 95%."""
    from experiments.analysis.robustness import chosen_best, mcb

    rng = np.random.default_rng(11)
    sweeps, draws, k = 400, 50, 12
    columns = pd.Index([(f"p{j}",) for j in range(k)], tupleize_cols=False)
    fixed = chosen = same_data = covered = hsu = 0
    for _ in range(sweeps):
        values = rng.normal(size=(draws, 1)) + rng.normal(scale=0.5, size=(draws, k))
        est = pd.DataFrame(values, columns=columns)
        fixed += (pairwise(est, ["policy"], reference=("p0",))["p_holm"] < 0.05).any()
        best, judged = chosen_best(est, ["policy"])
        chosen += (judged["p_holm"] < 0.05).any()
        others = judged[judged["policy"] != best[0]]
        covered += ((others["regret_ci_low"] <= 0) & (0 <= others["regret_ci_high"])).mean()
        # every policy is a best; Hsu's guarantee: a given best stays a candidate (upper limit > 0)
        hsu += not mcb(est, ["policy"])["may_be_best"].iloc[0]
        top = est.mean(axis=0).idxmax()
        same_data += (pairwise(est, ["policy"], reference=top)["p_holm"] < 0.05).any()
    bound = 0.05 + 3 * np.sqrt(0.05 * 0.95 / sweeps)
    assert fixed / sweeps <= bound and chosen / sweeps <= bound and hsu / sweeps <= bound, (fixed, chosen, hsu)
    assert same_data / sweeps > bound, same_data
    assert abs(covered / sweeps - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / (sweeps * (k - 1))) + 0.02


def test_multiple_comparisons_with_the_best_exclude_a_clearly_worse_policy():
    from experiments.analysis.robustness import mcb

    rng = np.random.default_rng(3)
    columns = pd.Index([("A",), ("B",), ("C",)], tupleize_cols=False)
    draws = rng.normal(size=(40, 1))
    est = pd.DataFrame(draws + rng.normal(scale=0.3, size=(40, 3)) + [0.0, 0.0, -1.0], columns=columns)
    table = mcb(est, ["policy"]).set_index("policy")
    assert table.loc[["A", "B"], "may_be_best"].all() and not table.at["C", "may_be_best"]
    assert table.at["C", "mcb_high"] == 0 and table.at["C", "mcb_low"] < -0.8
    assert (table["mcb_low"] <= 0).all() and (table["mcb_high"] >= 0).all()
    fewer = mcb(-est, ["policy"], larger_is_better=False).set_index("policy")  # the same, mirrored
    assert list(fewer["may_be_best"]) == list(table["may_be_best"])
