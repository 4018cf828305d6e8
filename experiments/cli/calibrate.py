"""``escalation calibrate``: fit the record-informed parameters by ABC-SMC."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError
from .common import output_dir, positive_int, seed, share
from .replay import scenario_and_record


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation calibrate`` and its options."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit the record-informed parameters by ABC-SMC",
        description="Fit the uncertain parameters the record can inform (test hazard, self-excitation, reactance, "
        "completion, talks rates, ...) to the record by approximate Bayesian computation with sequential "
        "Monte Carlo on the batched engine, each particle replayed --replicates times, against summaries "
        "of the record (launches, months with a launch, nuclear tests and the rung mix by year, gaps, "
        "exercise months, lags to resolutions, talks milestones) scaled by their simulated spread. "
        "Resumable: each generation is saved in --out. Writes the posterior sample and a calibrated "
        "parameter file; --install makes it the parameter table's defaults (model/calibrated.toml).",
    )
    parser.add_argument(
        "scenario", help="scenario TOML (the installed fit's: experiments/scenarios/history_2009_2018.toml)"
    )
    parser.add_argument("--record", metavar="CSV", help="monthly record (default: the scenario's)")
    budget = parser.add_argument_group(
        "budget",
        "the cost is about population / accept x replicates simulations for generation 0, then at least "
        "population x replicates per generation (fewer accepted as the tolerance tightens); 2009-2018 runs "
        "about 8,000 simulations per CPU second on the compiled backend (`escalation bench`: calibration)",
    )
    budget.add_argument("--population", type=positive_int, default=1000, help="particles per generation (default 1000)")
    budget.add_argument(
        "--generations",
        type=positive_int,
        default=20,
        help="SMC generations at most (default 20); the run ends sooner, at the last generation it can fill "
        "within --max-simulations (the tolerance has reached the simulation noise)",
    )
    budget.add_argument(
        "--accept", type=share, default=0.02, help="share of prior draws kept in generation 0 (default 0.02)"
    )
    budget.add_argument(
        "--replicates",
        type=positive_int,
        default=10,
        help="replays per particle; a particle weighs the share of its replays within the tolerance (default 10)",
    )
    budget.add_argument(
        "--max-simulations",
        type=positive_int,
        default=2_000_000,
        metavar="N",
        help="simulations a generation may spend filling its population before the run stops at the "
        "previous generation (default 2,000,000)",
    )
    budget.add_argument(
        "--block",
        type=positive_int,
        default=2000,
        help="particles per task (each task runs block x replicates simulations; default 2000)",
    )
    budget.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="local worker processes (default: all cores; 1 runs in this process)",
    )
    budget.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the simulations on this Dask scheduler instead (e.g. tcp://127.0.0.1:8786); same numbers as locally",
    )
    parser.add_argument("--seed", type=seed, default=1, help="seed (default 1)")
    parser.add_argument(
        "--out",
        default="results/calibration",
        help="output directory (default results/calibration); each finished generation is saved "
        "there and a rerun with the same settings continues after the last one",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="discard what a run of this kind saved in --out (a fit's generations; with --sbc, its truths) and start afresh",
    )
    parser.add_argument(
        "--sbc",
        type=positive_int,
        metavar="TRUTHS",
        help="instead of fitting the record, check the method: simulation-based calibration on "
        "TRUTHS parameter vectors drawn from the prior, each fitted (with the budget options) "
        "to a synthetic record; each fitted truth is saved in --out/sbc/ and a rerun with the same "
        "settings fits only the rest; writes calibration_checks.json into --out (with --install, "
        "into data/ as well)",
    )
    parser.add_argument(
        "--explanations",
        type=positive_int,
        metavar="DRAWS",
        help="instead of fitting, compare the explanations of the 2018 pause (completed programme, "
        "talks, declared moratorium) by ABC model choice: DRAWS prior draws for the full model "
        "and for the model without each, the --accept share closest to the record kept; writes "
        "explanations.csv into --out",
    )
    parser.add_argument(
        "--install",
        action="store_true",
        help="write the result to model/calibrated.toml (with --sbc: the checks to data/calibration_checks.json)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    """Fit the record-informed parameters (or check the method, or compare explanations)."""
    output_dir(args.out)
    scenario, record = scenario_and_record(args, continued=False)

    from ..history.calibration import (
        calibrate,
        install_calibration,
        resolution_effect_over_posterior,
        resolution_effect_summary,
        write_calibration,
    )
    from ..history.checks import CHECKS_FILE, SBC_DIR, simulation_based_calibration, write_checks
    from ..io import atomic_write_text
    from ..sweep.runner import make_executor

    out = Path(args.out)
    if args.explanations:
        from ..history.explanations import compare_explanations

        with make_executor(args.workers, args.dask) as (executor, parallelism):
            table, settings = compare_explanations(
                scenario,
                record,
                draws=args.explanations,
                accept=args.accept,
                replicates=args.replicates,
                seed=args.seed,
                block=args.block,
                executor=executor,
                parallelism=parallelism,
            )
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "explanations.csv", table.to_csv(index=False))
        print(
            f"ABC model choice on {scenario.name}: {args.explanations} prior draws per model, {args.replicates} "
            f"replays each, the closest {args.accept:.0%} kept (tolerance {settings['tolerance']:.3g}):"
        )
        print(table.round(3).to_string(index=False))
        print(f"wrote {out / 'explanations.csv'}")
        return 0
    budget = {  # the options a fit and each of the SBC's fits share
        "population": args.population,
        "generations": args.generations,
        "accept": args.accept,
        "seed": args.seed,
        "progress": not args.quiet,
        "replicates": args.replicates,
        "block": args.block,
        "max_simulations_per_generation": args.max_simulations,
    }
    if args.restart:  # what this kind of run saved: an SBC's truths, or a fit's generations
        saved = ["truth_*.json"] if args.sbc else ["generation_*.json", "generation_*.parquet"]
        for path in [p for pattern in saved for p in (out / SBC_DIR if args.sbc else out).glob(pattern)]:
            path.unlink()
    if args.sbc:
        with make_executor(args.workers, args.dask) as (executor, parallelism):
            figures = simulation_based_calibration(
                scenario,
                record,
                truths=args.sbc,
                executor=executor,
                parallelism=parallelism,
                store=out / SBC_DIR,
                **budget,
            )
        written = [write_checks(figures, out / "calibration_checks.json")]
        if args.install:  # beside the installed fit's identification report, which it keeps
            import json

            kept = json.loads(CHECKS_FILE.read_text(encoding="utf-8")) if CHECKS_FILE.is_file() else {}
            identification = {"identification": kept["identification"]} if "identification" in kept else {}
            written.append(write_checks({**figures, **identification}, CHECKS_FILE))
        print(
            f"simulation-based calibration, {args.sbc} truths from the prior: the 50% credible intervals contain "
            f"the truth in {figures['sbc_coverage_50']:.2f} of cases (SE {figures['sbc_coverage_50_se']:.2f}), the "
            f"90% intervals in {figures['sbc_coverage_90']:.2f} (SE {figures['sbc_coverage_90_se']:.2f})"
        )
        print(f"wrote {' and '.join(map(str, written))}")
        return 0
    with make_executor(args.workers, args.dask) as (executor, parallelism):
        result = calibrate(scenario, record, out=out, executor=executor, parallelism=parallelism, **budget)
    written = write_calibration(result, out)
    print(
        f"ABC-SMC on {scenario.name}: {result.simulations} simulations, {len(result.tolerances)} generations, "
        f"tolerances {', '.join(f'{t:.3g}' for t in result.tolerances)}, effective sample size "
        f"{result.effective_sample_size:.0f}, {result.replicates} replicates per particle"
    )
    if result.stopped:
        print(f"stopped early: {result.stopped}")
    print(result.intervals().round(4).to_string())
    print(
        "strongest posterior correlations (pairs the record cannot separate): "
        + "; ".join(f"{a} ~ {b} {r:+.2f}" for a, b, r in result.strongest_correlations())
    )
    try:
        f2 = resolution_effect_summary(resolution_effect_over_posterior(scenario, result.posterior))
    except UserError as error:  # a scenario without resolutions: nothing to report, keep the calibration
        print(f"F2 over the posterior: n/a ({error})")
    else:
        print(
            f"F2 over the posterior ({f2['particles']} particles drawn by weight, 100 paired replays each): launch "
            f"change in the resolutions' quarters, with minus without them, median {f2['median']:+.2f}, 90% "
            f"interval [{f2['low']:+.2f}, {f2['high']:+.2f}]; below 0 under {f2['share_below_zero']:.0%} of the "
            f"particles, below -2 SE (F2's criterion) under {f2['share_suppressed']:.0%}"
        )
    print(f"wrote {' and '.join(map(str, written))}")
    if args.install:
        calibrated, posterior = install_calibration(result)
        checks = install_identification(result)
        print(
            f"installed as {calibrated} (posterior sample {posterior}; what the record informs in {checks}): the "
            f"parameter table's defaults now read it (docs/ODD.md {'updated' if update_odd_after_install() else 'unchanged'})"
        )
    return 0


def install_identification(result) -> Path:
    """Write the installed posterior's identification report (width ratio per parameter, effective
    sample size, strongly correlated pairs) into ``data/calibration_checks.json`` beside the
    simulation-based calibration's figures, and return the path."""
    import json

    from ..history.checks import CHECKS_FILE, identification, write_checks

    figures = json.loads(CHECKS_FILE.read_text(encoding="utf-8")) if CHECKS_FILE.is_file() else {}
    figures["identification"] = {
        "scenario": result.scenario,
        **identification(result.posterior, tuple(result.parameters), result.prior_low, result.prior_high),
    }
    return write_checks(figures, CHECKS_FILE)


def update_odd_after_install() -> bool:
    """Regenerate the ODD's parameter table in a fresh interpreter (the table is read at import)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "params", "--update-odd"], capture_output=True, text=True
    )
    return "updated" in done.stdout
