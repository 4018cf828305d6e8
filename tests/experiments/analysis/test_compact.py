"""The one-screen table: a few sanctions levels, the best marked, ties named as ties."""

import numpy as np
import pandas as pd

from experiments.analysis import compact


def _table():
    rows = []
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        for exercise in ("as_scheduled", "suspended"):
            for stance in ("pressure_first", "pressure_and_engagement"):
                p = 1.0 if (stance == "pressure_and_engagement" and level >= 0.5) else 0.1 + 0.1 * level
                rows.append(
                    {
                        "sanctions_level": level,
                        "exercise_policy": exercise,
                        "engagement_stance": stance,
                        "p_talks": p,
                        "median_weeks_to_talks": 5.0 if p == 1.0 else np.nan,
                        "mean_tests": 3.0 - level - (exercise == "suspended"),
                    }
                )
    return pd.DataFrame(rows)


BY = ["sanctions_level", "exercise_policy", "engagement_stance"]


def test_levels_shown_are_lowest_middle_highest():
    assert compact.shown_levels([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]) == [0.0, 0.5, 1.0]
    assert compact.shown_levels([0.5, 1.0]) == [0.5, 1.0]


def test_one_screen_marks_the_best_and_names_ties():
    frame, notes = compact.one_screen(_table(), BY, 52)
    assert list(frame.columns) == ["exercises", "stance", "sanctions 0", "sanctions 0.5", "sanctions 1"]
    assert len(frame) == 4
    engaged = frame[frame["stance"] == "pressure + engagement"]
    assert all(cell.startswith("**1.00**") for cell in engaged["sanctions 1"])
    first = frame[frame["stance"] == "pressure first"]
    assert all(" · >52 · " in cell for cell in first["sanctions 1"])  # median beyond the horizon
    assert any(n.startswith("sanctions 1: 2 policies tie at the highest P(talks) (1.00)") for n in notes)
    # at sanctions 0 all four policies have 0.10: no policy is marked, one note says so
    assert "sanctions 0: every policy has P(talks) 0.10 at the precision shown." in notes
    assert not any("**" in cell.split(" · ")[0] for cell in frame["sanctions 0"])
    text = compact.text(_table(), BY, 52)
    assert "1.00*" in text and "**" not in text
    assert len(text.splitlines()[1]) < 120  # fits a terminal


def _over_draws_table():
    """A table as :func:`~experiments.analysis.estimates.policy_estimates` gives it for a posterior
    sweep: P(talks) the mean over the draws, with its t interval over them."""
    table = _table()
    table["p_talks_low"] = (table["p_talks"] - 0.04).clip(0, 1)
    table["p_talks_high"] = (table["p_talks"] + 0.03).clip(0, 1)
    table["p_deal"] = 0.0
    return table


def test_a_sweep_over_draws_leads_with_the_posterior_average_and_its_interval():
    table = _over_draws_table()
    frame, notes = compact.one_screen(table, BY, 52, over="draw")
    row = table[(table["sanctions_level"] == 0.5) & (table["exercise_policy"] == "suspended")]
    first = row[row["engagement_stance"] == "pressure_first"].iloc[0]
    cell = frame[(frame["exercises"] == "suspended") & (frame["stance"] == "pressure first")]["sanctions 0.5"].iloc[0]
    expected = f"{first['p_talks']:.2f} [{first['p_talks_low']:.2f}, {first['p_talks_high']:.2f}]"
    assert cell.startswith(expected + " · ")
    # the best is marked on the estimate with its interval, and a column alike everywhere gets one note
    engaged = frame[frame["stance"] == "pressure + engagement"]["sanctions 1"]
    assert all(cell.startswith("**1.00 [0.96, 1.00]**") for cell in engaged)
    assert "At every sanctions level shown, every policy has P(deal) 0.00 at the precision shown." in notes
    text = compact.markdown(table, BY, 52, over="draw", footnotes=["The stance effect rests on `x`."])
    assert "averaged over the calibration posterior's draws [95% t interval over the draws" in text.splitlines()[0]
    assert text.rstrip().endswith("* The stance effect rests on `x`.")
    plain = compact.text(table, BY, 52, over="draw", footnotes=["The stance effect rests on `x`."])
    assert plain.splitlines()[-1] == "The stance effect rests on x." and "**" not in plain
    # without `over` the same table shows the estimate alone (a sweep at one parameter point)
    assert compact.one_screen(table, BY, 52)[0]["sanctions 0.5"].iloc[0].split(" · ")[0] == "0.15"


def test_a_sweep_over_draws_shows_the_per_draw_range_beside_the_means_interval_within_100_columns():
    table = _over_draws_table()
    table["p_talks_range_low"] = (table["p_talks"] - 0.3).clip(0, 1)
    table["p_talks_range_high"] = (table["p_talks"] + 0.2).clip(0, 1)
    frame, _ = compact.one_screen(table, BY, 52, over="draw")
    assert len(frame) == 4 * 3  # one row per policy and sanctions level shown
    row = table[(table["sanctions_level"] == 0.5) & (table["exercise_policy"] == "suspended")].iloc[0]
    cell = frame[(frame["sanctions"] == "0.5") & (frame["exercises"] == "suspended")].iloc[0, -1]
    interval = f"{row['p_talks']:.2f} [{row['p_talks_low']:.2f}, {row['p_talks_high']:.2f}]"
    spread = f"{row['p_talks_range_low']:.2f}–{row['p_talks_range_high']:.2f}"
    assert cell.replace("**", "").startswith(f"{interval} · {spread} · ")
    plain = compact.text(table, BY, 52, over="draw")
    assert "how precisely that average is known" in " ".join(plain.splitlines())
    assert "how far P(talks) itself moves" in " ".join(plain.splitlines())
    table_lines = [line for line in plain.splitlines() if " · " in line and "[" in line]
    assert len(table_lines) == len(frame) + 1 and max(len(line) for line in plain.splitlines()[:18]) <= 100
