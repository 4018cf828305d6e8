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
    assert any(n.startswith("sanctions 0: 4 policies tie at the highest P(talks) (0.10)") for n in notes)
    text = compact.text(_table(), BY, 52)
    assert "1.00*" in text and "**" not in text
    assert len(text.splitlines()[1]) < 120  # fits a terminal
