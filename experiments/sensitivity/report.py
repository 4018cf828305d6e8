"""The sensitivity analysis as tables, figures and files, and the ``escalation sensitivity`` command."""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..io import atomic_write_bytes, atomic_write_text
from ..provenance import provenance
from .plan import SensitivityPlan, load_plan
from .run import SensitivityResult, run_plan


def markdown(result: SensitivityResult) -> str:
    """The result as Markdown: warnings first, then the variance split with its intervals, the
    verdicts of the screen and of the indices, and the indices table(s)."""
    meta = result.meta
    level = round(100 * meta.get("confidence", 0.95))
    lines = ["# Global sensitivity analysis", ""]
    for note in result.warnings:
        lines += [f"**Warning.** {note}", ""]
    lines += [
        f"Ranges from {meta['ranges_from']}; {meta['replicates']} replicates per point with the same seeds at every "
        f"point (common random numbers); {meta['weeks']} weeks; {meta['runs']:,} runs in {meta['seconds']} s.",
        "",
    ]
    if meta.get("held_at_defaults"):
        lines += [
            f"Every index is conditional on the {meta['held_at_defaults']} other uncertainties held at their "
            "defaults (and on the policy in the config): a share of the variance over the sampled ranges only.",
            "",
        ]
    if "morris" in meta:
        m = meta["morris"]
        lines.append(
            f"Morris: {m['trajectories']} trajectories over {m['parameters']} parameters ({m['points']} points, "
            f"{m['levels']} levels, {m['replicates']} replicates per point); every point runs as sampled "
            "(the table has no cross-parameter constraints)."
        )
        if not _nan(m.get("seed_overlap")):
            lines.append(
                f"The screens of the two halves of the seeds share {100 * m['seed_overlap']:.0f}% of their top "
                "parameters."
            )
    if "sobol" in meta:
        m = meta["sobol"]
        lines.append(f"Sobol': N = {m['samples']} ({m['points']} points) over {', '.join(m['parameters'])}.")
    lines += [
        "",
        "## Parameters or dice?",
        "",
        f"Share of the variance of one run's outcome due to the seeds (the rest is due to the parameters), and the "
        f"share of the variance of the per-point estimates that the finite replicates still carry; {level}% "
        "intervals from a bootstrap over points and seeds.",
        "",
        "| outcome | per point | noise share (one run) | noise share (estimates) | P <= 0.01 or >= 0.99 |",
        "|---|---|---|---|---|",
    ]
    for r in result.split.to_dict("records"):
        lines.append(
            f"| {r['outcome']} | {meta['outcomes'][r['outcome']]} | {_share(r, 'noise_share')} | "
            f"{_share(r, 'estimate_noise_share')} | {_pct(r['saturated_share'])} |"
        )
    if result.screening_checks:
        lines += ["", "## Did the screen converge?", "", _verdicts(result.screening_checks, screen=True)]
    if result.checks and ("S1" in result.indices.columns):
        lines += ["", "## Did the indices converge?", "", _verdicts(result.checks, screen=False)]
    if result.screening is not None and not result.screening.empty:
        lines += ["", "## Morris screen (all parameters)", "", _morris_table(result.screening)]
    if "S1" in result.indices.columns:
        lines += [
            "",
            f"## Sobol' indices ({level}% intervals over points and seeds)",
            "",
            "S1: share of the variance due to the parameter alone; ST: with all its interactions "
            "(ST >= S1 up to estimation error). Both are conditional on every parameter not sampled "
            "staying at its default value.",
            "",
            _sobol_table(result.indices),
        ]
    elif not result.indices.empty:
        lines += ["", "## Morris screen", "", _morris_table(result.indices)]
    return "\n".join(lines) + "\n"


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pct(x: float) -> str:
    return "n/a" if _nan(x) else f"{100 * x:.1f}%"


def _share(row: dict, key: str) -> str:
    if _nan(row[key]):
        return "n/a"
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    if _nan(low):
        return _pct(row[key])
    assert low is not None and high is not None  # the split writes the two ends together
    return f"{_pct(row[key])} [{100 * low:.1f}, {100 * high:.1f}]"


def _verdicts(checks: dict[str, dict], *, screen: bool) -> str:
    if screen:
        head = "| outcome | converged | largest move, half vs all | seed halves apart | top shared | why |"
    else:
        head = "| outcome | converged | half vs all (allowed) | seed halves apart (allowed) | why |"
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for outcome, c in checks.items():
        verdict = "saturated" if c["converged"] is None else "yes" if c["converged"] else "**no**"
        if c["converged"] is None:
            lines.append(f"| {outcome} | {verdict} |" + " |" * (head.count("|") - 3) + f" {c['reason']} |")
        elif screen:
            lines.append(
                f"| {outcome} | {verdict} | {_pct(c['half_moved'])} of largest mu* | {_pct(c['seed_split'])} | "
                f"{_pct(c['seed_overlap'])} | {c['reason']} |"
            )
        else:
            lines.append(
                f"| {outcome} | {verdict} | {_num(c['half_moved'])} ({_num(c['half_tolerance'])}) | "
                f"{_num(c['seed_split'])} ({_num(c['seed_tolerance'])}) | {c['reason']} |"
            )
    return "\n".join(lines)


def _num(x) -> str:
    return "n/a" if _nan(x) else f"{x:.3f}"


def _morris_table(frame: pd.DataFrame) -> str:
    wide = frame.pivot(index="parameter", columns="outcome", values="mu_star")
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index]
    lines = [
        "mu* (mean absolute elementary effect over the parameter's whole range), largest first.",
        "",
        "| parameter | " + " | ".join(wide.columns) + " |",
        "|---|" + "---|" * len(wide.columns),
    ]
    for name, row in wide.iterrows():
        lines.append(f"| `{name}` | " + " | ".join(f"{v:.3g}" for v in row) + " |")
    return "\n".join(lines)


def _sobol_table(frame: pd.DataFrame) -> str:
    lines = [
        "| outcome | parameter | S1 | ST | S1, seed halves | ST >= S1 |",
        "|---|---|---|---|---|---|",
    ]
    for r in frame.sort_values(["outcome", "ST"], ascending=[True, False]).to_dict("records"):
        ok = r["ST"] + r["ST_conf"] >= r["S1"] - r["S1_conf"]
        halves = "n/a" if _nan(r["S1_seed_a"]) else f"{r['S1_seed_a']:.3f} / {r['S1_seed_b']:.3f}"
        lines.append(
            f"| {r['outcome']} | `{r['parameter']}` | {r['S1']:.3f} ± {r['S1_conf']:.3f} | "
            f"{r['ST']:.3f} ± {r['ST_conf']:.3f} | {halves} | {'yes' if ok else 'no'} |"
        )
    return "\n".join(lines)


def figures(result: SensitivityResult, out: Path) -> list[Path]:
    """Bar charts of the indices (Sobol' S1 and ST with intervals, or Morris mu* with intervals)
    per outcome, and of the variance split; PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    frame = result.indices
    outcomes = list(dict.fromkeys(frame["outcome"])) if not frame.empty else []
    if outcomes:
        sobol_kind = "S1" in frame.columns
        fig, axes = plt.subplots(
            1,
            len(outcomes),
            figsize=(3.6 * len(outcomes), 0.3 * frame["parameter"].nunique() + 1.8),
            sharey=True,
            squeeze=False,
        )
        order = frame.groupby("parameter")["ST" if sobol_kind else "mu_star"].max().sort_values().index
        for ax, name in zip(axes[0], outcomes, strict=True):
            part = frame[frame["outcome"] == name].set_index("parameter").reindex(order)
            y = np.arange(len(order))
            if sobol_kind:
                ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], label="ST (total)", color="#4c72b0")
                ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], label="S1 (first order)", color="#dd8452")
                ax.set_xlim(0, 1.05)
            else:
                ax.barh(y, part["mu_star"], 0.6, xerr=part["mu_star_conf"], color="#4c72b0")
                ax.set_xlabel("mu* (Morris)")
            ax.set_yticks(y, order)
            ax.set_title(result.meta["outcomes"][name], fontsize=9)
        if sobol_kind:
            axes[0][0].legend(fontsize=8, loc="lower right")
        fig.suptitle(
            f"{'Sobol' + chr(39) + ' indices' if sobol_kind else 'Morris screen'} "
            f"({result.meta['replicates']} replicates per point; intervals over points and seeds; "
            "every other parameter at its default)",
            fontsize=10,
        )
        fig.tight_layout()
        written += _save(fig, out / ("sobol_indices" if sobol_kind else "morris_screen"))
        plt.close(fig)
    split = result.split.dropna(subset=["noise_share"])
    if not split.empty:
        fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(split) + 2.0))
        y = np.arange(len(split))
        ax.barh(y, 1 - split["noise_share"], color="#4c72b0", label="parameters")
        ax.barh(
            y, split["noise_share"], left=1 - split["noise_share"], color="#c44e52", label="seeds (simulation noise)"
        )
        edge = (1 - split["noise_share"]).to_numpy()
        low = (1 - split["noise_share_high"]).fillna(pd.Series(edge, index=split.index)).to_numpy()
        high = (1 - split["noise_share_low"]).fillna(pd.Series(edge, index=split.index)).to_numpy()
        level = round(100 * result.meta.get("confidence", 0.95))
        ax.errorbar(
            edge,
            y,
            xerr=[np.maximum(edge - low, 0), np.maximum(high - edge, 0)],
            fmt="none",
            ecolor="black",
            capsize=3,
            label=f"{level}% interval",
        )
        ax.set_yticks(y, [result.meta["outcomes"][o] for o in split["outcome"]])
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of one run's variance")
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8, frameon=False)
        ax.set_title("What drives the variance: parameters or seeds", fontsize=10)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        written += _save(fig, out / "variance_split")
        plt.close(fig)
    return written


def _save(fig, stem: Path) -> list[Path]:
    paths = []
    for suffix in (".png", ".pdf"):
        path = stem.with_suffix(suffix)
        fig.savefig(path, dpi=150 if suffix == ".png" else None)
        paths.append(path)
    return paths


def write(result: SensitivityResult, out: Path, plan: SensitivityPlan) -> list[Path]:
    """Write indices.csv, screening.csv (Morris then Sobol'), variance_split.csv, sensitivity.md,
    sensitivity.json (with provenance), the sample points with their per-point estimates
    (points_<method>.parquet) and the figures into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("indices.csv", result.indices),
        ("screening.csv", result.screening),
        ("variance_split.csv", result.split),
    ):
        if frame is not None:
            atomic_write_text(out / name, frame.to_csv(index=False))
            written.append(out / name)
    for method, frame in result.samples.items():
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(out / f"points_{method}.parquet", buffer.getvalue())
        written.append(out / f"points_{method}.parquet")
    atomic_write_text(out / "sensitivity.md", markdown(result))
    payload = {**result.as_json(), "provenance": provenance(plan.experiment, settings=plan.settings.__dict__)}
    atomic_write_text(out / "sensitivity.json", json.dumps(payload, indent=1, default=str, allow_nan=False))
    written += [out / "sensitivity.md", out / "sensitivity.json"]
    written += figures(result, out)
    return written


def main(args: argparse.Namespace) -> int:
    """``escalation sensitivity``."""
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out {args.out} exists and is not a directory")
    plan = load_plan(args.config, method=args.method, samples=args.samples, replicates=args.replicates)
    result = run_plan(plan, workers=args.workers, dask=args.dask, progress=not args.quiet and not args.json)
    out = Path(args.out) if args.out else Path("results") / plan.experiment.name
    written = write(result, out, plan)
    for note in result.warnings:
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_json(), allow_nan=False, default=str))
        return 0
    print(markdown(result))
    print(f"wrote {len(written)} files to {out}")
    return 0
