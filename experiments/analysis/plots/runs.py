"""Figures of single runs: one run's weekly series, and a historical replay against the record."""

from __future__ import annotations

import datetime as dt

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...history.replay import Replay
from .labels import (
    PALETTE,
    SEQUENTIAL,
    TALKS_STAGES,
    weeks_label,
)
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, paper_style

STAGE_HEIGHTS = {4: -1}
"""Where a talks stage sits on the run plot's axis when not at its own number (suspended, below none)."""


def run_plot(trajectory: pd.DataFrame, start_date: dt.date | str | None = None):
    """One run's weekly series (``EscalationModel.trajectory()``), single column: the talks
    stage, the tests of each week by rung, pressure on the DPRK, its stress and threat, and
    trust and alliance alignment."""
    weeks = trajectory["week"].to_numpy()
    rung_colours = dict(zip(range(1, 6), sns.color_palette(SEQUENTIAL + "_r", 5), strict=True))
    rung_short = {1: "short-range", 2: "intermediate", 3: "SLBM/space", 4: "ICBM", 5: "nuclear"}
    palette = sns.color_palette(PALETTE, 3)
    panels = [
        (
            "Pressure (0–1)",
            {"sanctions": "sanctions", "effective_pressure": "pressure felt", "exercise_intensity": "exercises"},
        ),
        ("DPRK (0–1)", {"dprk_stress": "economic stress", "dprk_threat": "perceived threat"}),
        (
            "Trust (0–1)",
            {"trust_dprk_in_us": "DPRK in US", "trust_us_in_dprk": "US in DPRK", "alignment": "US–ROK alignment"},
        ),
    ]
    legend = {
        "frameon": False,
        "fontsize": "x-small",
        "loc": "lower left",
        "bbox_to_anchor": (0, 1),
        "borderaxespad": 0.1,
        "handlelength": 1.0,
        "columnspacing": 0.8,
        "handletextpad": 0.4,
    }
    with paper_style():
        fig, axes = plt.subplots(
            5,
            1,
            figsize=(SINGLE_COLUMN, 6.0),
            sharex=True,
            constrained_layout=True,
            gridspec_kw={"height_ratios": [0.9, 0.8, 1, 1, 1]},
        )
        # suspended talks (stage 4) are drawn below "none": a suspension is not a step past a summit
        heights = {stage: STAGE_HEIGHTS.get(stage, stage) for stage in TALKS_STAGES}
        axes[0].step(weeks, trajectory["talks_stage"].map(heights), where="mid", color="black", lw=1.2)
        axes[0].set_yticks(list(heights.values()), list(TALKS_STAGES.values()))
        axes[0].set_ylim(min(heights.values()) - 0.3, max(heights.values()) + 0.3)
        axes[0].set_ylabel("Talks stage")
        tested = trajectory[trajectory["tests"] > 0]
        for rung, part in tested.groupby("test_rung"):
            axes[1].bar(
                part["week"],
                part["tests"],
                width=0.8,
                color=rung_colours.get(rung, "black"),
                label=rung_short.get(rung, rung),
            )
        axes[1].set_ylabel("Tests (count)")
        axes[1].set_ylim(0, max(1, int(trajectory["tests"].max())) + 0.3)
        axes[1].yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if len(tested):
            axes[1].legend(ncol=4, **legend)
        for ax, (ylabel, columns) in zip(axes[2:], panels, strict=True):
            for colour, (column, name) in zip(palette, columns.items(), strict=False):
                ax.plot(weeks, trajectory[column], color=colour, lw=1.1, label=name)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel(ylabel)
            ax.legend(ncol=len(columns), **legend)
        axes[-1].set_xlabel(weeks_label(start_date))
        axes[-1].set_xlim(weeks.min() - 0.5, weeks.max() + 0.5)
        fig.align_ylabels(axes)
    return fig


def replay_figure(replay: Replay):
    """Observed vs simulated monthly launches of a :class:`~experiments.history.replay.Replay`
    (median, 50% and 90% bands), with nuclear tests, talks events and exercises marked."""
    frame = replay.comparison()
    x = frame.index.to_timestamp()
    palette = plt.get_cmap("tab10")
    with paper_style():
        fig, (ax, talks_ax) = plt.subplots(
            2, 1, figsize=(DOUBLE_COLUMN, 3.6), sharex=True, height_ratios=[3, 1], constrained_layout=True
        )
        scheduled = replay.scenario.schedule().arrays(replay.scenario.weeks)["scheduled_exercise"]
        starts = replay.scenario.week_starts()
        for w, intensity in enumerate(scheduled):
            if intensity > 0:
                for a in (ax, talks_ax):
                    a.axvspan(starts[w], starts[w] + dt.timedelta(days=7), color="0.85", lw=0, zorder=0)
        for level, alpha in ((90, 0.2), (50, 0.4)):
            ax.fill_between(
                x,
                frame[f"sim_launches_{level}_low"],
                frame[f"sim_launches_{level}_high"],
                step="mid",
                color=palette(0),
                alpha=alpha,
                lw=0,
                label=f"simulated {level}% interval",
            )
        ax.step(x, frame["sim_launches_median"], where="mid", color=palette(0), lw=1, label="simulated median")
        if "obs_launches" in frame:
            ax.plot(x, frame["obs_launches"], "o", color="black", ms=3, label="observed (CNS)")
            nuclear = frame["obs_nuclear"].fillna(0) > 0
            ax.plot(
                x[nuclear],
                frame.loc[nuclear, "obs_launches"] + 0.6,
                marker="*",
                ls="none",
                color=palette(3),
                ms=8,
                label="observed nuclear test",
            )
            observed_talks = frame["obs_talks"].fillna(False).astype(bool)
            talks_ax.plot(
                x[observed_talks],
                np.ones(observed_talks.sum()),
                "|",
                color="black",
                ms=10,
                label="observed talks event",
            )
        if replay.window[0] > replay.months[0]:  # where the scored window starts
            for a in (ax, talks_ax):
                a.axvline(replay.window[0].to_timestamp(), color="0.3", ls="--", lw=0.8)
            ax.annotate(
                "scored from here",
                (replay.window[0].to_timestamp(), 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -8),
                textcoords="offset points",
                fontsize=6,
                color="0.3",
            )
        if replay.window[1] < replay.months[-1]:
            for a in (ax, talks_ax):
                a.axvline((replay.window[1] + 1).to_timestamp(), color="0.3", ls="--", lw=0.8)
        ax.set_ylabel("Launch events per month")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", ncols=2, fontsize=6, frameon=False)
        ax.set_title(f"{replay.scenario.name}: {replay.replicates} simulated runs (grey: exercises held)", fontsize=8)
        talks_ax.step(x, frame["sim_p_talks"], where="mid", color=palette(2), label="simulated P(talks under way)")
        talks_ax.set_ylim(0, 1.15)
        talks_ax.set_ylabel("P(talks)")
        talks_ax.set_xlabel("Month")
        talks_ax.legend(loc="upper left", fontsize=6, frameon=False)
    return fig
