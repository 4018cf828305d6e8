"""The ``escalation`` command. Thin: parses arguments, calls the library, prints.

The top of the import graph (``cli -> analysis -> sweep -> history -> leaves -> model``). Its
imports of the library sit inside the commands on purpose, for start-up speed only (``--help``
and a bad argument answer before numpy, pandas and matplotlib load); each points down the graph.

Bad input of any kind (unknown parameter, value out of range, malformed config, missing file)
ends with one line on standard error naming the problem and what is allowed, and exit
status 2; nothing already written is touched. A fault that is not the input (a worker or the
Dask scheduler died, the disk is full, a results file is damaged) ends with one line and exit
status 3; SIGTERM with one line and 143, Ctrl-C with 130. Finished chunks are kept in every
case, and rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from model.params import ParameterError

from .app.serve import add_app_parser
from .errors import EXIT_FAULT, Fault, Terminated, UserError

EXIT_USAGE = 2
EXIT_TERMINATED = 128 + signal.SIGTERM
MAX_WEEKS = 5200

# The model does no linear algebra, and sweeps parallelise over processes: BLAS thread pools and
# pyarrow's jemalloc background thread would only oversubscribe the cores and make this process
# multi-threaded, which rules out forking workers (the fastest start). Set before numpy loads;
# a user's explicit settings win.
for _name, _value in (
    ("OPENBLAS_NUM_THREADS", "1"),
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("JE_ARROW_MALLOC_CONF", "background_thread:false"),
):
    os.environ.setdefault(_name, _value)
# After a SIGKILL of the sweep, multiprocessing's resource tracker cleans up the pool's semaphores
# and would warn about each "leak" on our stderr; the cleaning is its job, the warning noise.
sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    print(f"escalation: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(status)


def _os_error(error: OSError) -> str:
    """One line for an operating-system error while reading or writing files."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"the disk is full{where}: free some space and rerun the same command (nothing half-written is kept "
            "or used; a sweep resumes from its finished chunks)"
        )
    reason = error.strerror or (str(error).splitlines() or [type(error).__name__])[0]
    return f"{reason}{where}: fix the cause and rerun the same command (a sweep resumes from its finished chunks)"


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# escalation run
# ---------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from model import Params

    params = Params.from_strings(args.set or [])  # validate before importing the heavy machinery
    if args.trajectory and Path(args.trajectory).is_dir():
        raise UserError(f"--trajectory {args.trajectory} is a directory; give a file name such as run.csv")
    if args.trajectory and not Path(args.trajectory).parent.is_dir():
        raise UserError(
            f"--trajectory {args.trajectory}: the directory {Path(args.trajectory).parent} does not exist; "
            "create it, or give a file in an existing directory"
        )

    from model.batched import simulate
    from model.model import EscalationModel

    from .io import atomic_write_text

    if args.engine == "mesa":
        model = EscalationModel(params, rng=args.seed).run(args.weeks)
        outcomes, trajectory = model.outcomes(), (model.trajectory() if args.trajectory else None)
    else:
        result = simulate([params], [args.seed], args.weeks, trajectories=bool(args.trajectory))
        outcomes = {k: v[0].item() for k, v in result.outcomes.items()}
        trajectory = result.trajectory_frame().drop(columns="run") if args.trajectory else None
    if trajectory is not None:
        atomic_write_text(Path(args.trajectory), trajectory.to_csv(index=False))
    if args.json:
        record = {
            "seed": args.seed,
            "weeks": args.weeks,
            "engine": args.engine,
            "overrides": params.changed(),
            "outcomes": outcomes,
        }
        print(json.dumps(_jsonable(record), indent=2))
    else:
        print(
            f"seed {args.seed}, {args.weeks} weeks, {args.engine} engine"
            + (f", overrides {params.changed()}" if params.changed() else "")
        )
        width = max(map(len, outcomes))
        for name, value in outcomes.items():
            text = (
                "-"
                if isinstance(value, float) and math.isnan(value)
                else (f"{value:.4g}" if isinstance(value, float) else str(value))
            )
            print(f"  {name:<{width}}  {text}")
        if args.trajectory:
            print(f"weekly trajectory written to {args.trajectory}")
    return 0


# ---------------------------------------------------------------------------------------------
# escalation sweep
# ---------------------------------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep.config import load_experiment

    _output_dir(args.out)
    experiment = load_experiment(args.config).with_options(
        replicates=args.replicates, engine=args.engine, chunk_size=args.chunk_size
    )

    from .analysis.assumptions import brief, relevant
    from .analysis.compact import text as compact_text
    from .analysis.estimates import (
        SUMMARY_FILE,
        format_table,
        has_heatmap,
        load,
        policy_estimates,
        summary,
        summary_is_current,
        write_summary,
    )
    from .analysis.report import DERIVED_FILES
    from .sweep.runner import parse_shard, run_sweep

    shard = parse_shard(args.shard)
    out = Path(args.out) if args.out is not None else Path("results") / experiment.name
    done = run_sweep(
        experiment,
        out,
        workers=args.workers,
        dask=args.dask,
        shard=shard,
        overwrite=args.overwrite,
        progress=not args.quiet,
        derived=DERIVED_FILES,
    )
    design = done.design
    print(
        f"{experiment.name}: {design.n_runs} runs ({design.n_points} design points x {design.replicates} "
        f"replicates, {design.weeks} weeks, {experiment.engine} engine); {done.chunks_run} chunks run, "
        f"{done.chunks_skipped} already on disk; results in {out}"
    )
    if not done.complete:
        missing = sum(not done.store.chunk_path(c).is_file() for c in design.chunks())
        print(
            f"{missing} chunks are still missing (other shards); rerun without --shard, or run the "
            "remaining shards, to finish and write the summary"
        )
        return 0
    result = load(out)
    table = summary(result)
    if result.levers:  # the answer on one screen; the full table is summary.csv
        headline, over = policy_estimates(result)
        notes = brief(relevant(result.levers, list(headline.columns)))
        print(compact_text(headline, result.policy_columns, result.horizon, over, notes))
        print(f"(one row per design point, with 95% intervals: {out / SUMMARY_FILE})")
    else:
        print(format_table(table, result.factors or ["design_point"]))
    if done.chunks_run == 0 and summary_is_current(result):
        print(f"{out / SUMMARY_FILE}{' and the heatmap' if has_heatmap(result) else ''}: up to date")
        return 0
    for path in write_summary(result, table):
        print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------------------
# escalation replay / calibrate
# ---------------------------------------------------------------------------------------------


def _scenario_and_record(args: argparse.Namespace, continued: bool = True):
    """The scenario and the record to compare it with (``--record``, else the scenario's own),
    both validated before any simulation; ``continued=False`` refuses a scenario that continues
    another (calibration fits a period from its own starting state)."""
    from .history.record import load_record_for
    from .history.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if not continued and scenario.continue_from is not None:
        raise UserError(
            f"{args.scenario} continues {Path(scenario.continue_from.source).name}: calibrate fits a period from the "
            "state its own [params] set; calibrate the first period, then replay the continued one"
        )
    for note in scenario.notes:
        print(f"note: {note}", file=sys.stderr)
    return scenario, load_record_for(scenario, args.record)


def cmd_replay(args: argparse.Namespace) -> int:
    _output_dir(args.out)
    from .analysis.report import write_replay
    from .history.posterior import default_posterior_file, read_posterior
    from .history.replay import Replay

    posterior = None
    if args.posterior is not None:
        posterior = read_posterior(default_posterior_file() if args.posterior == "installed" else args.posterior)
    scenario, record = _scenario_and_record(args)
    replay = Replay(
        scenario,
        replicates=args.replicates,
        seed=args.seed,
        record=record,
        score_from=args.score_from,
        score_to=args.score_to,
        posterior=posterior,
    )
    summary = replay.summary()
    written = write_replay(replay, Path(args.out)) if args.out else []
    if args.json:
        print(json.dumps(_jsonable(summary), indent=2))
        return 0
    print(
        f"{scenario.name}: {scenario.start} to {scenario.end} ({scenario.weeks} weeks), {args.replicates} replicates "
        f"({summary['parameters']}), "
        f"scored over {summary['months_compared']} months of the record ({summary['score_from']} to {summary['score_to']})"
    )
    print(
        f"  coverage of observed monthly launches: 50% interval {summary['coverage_50']:.2f}, "
        f"90% interval {summary['coverage_90']:.2f}"
    )
    print(f"  mean absolute error of the monthly launch rate: {summary['mae_monthly_launches']:.2f} launches/month")
    print(
        f"  CRPS of monthly launches {summary['crps']:.3f}; naive baseline (Poisson at the fitted period's mean "
        f"rate {summary['baseline_rate']:.2f}/month) {summary['crps_baseline']:.3f}; skill "
        + ("n/a (the baseline is perfect)" if summary["crps_skill"] is None else f"{summary['crps_skill']:+.2f}")
    )
    print(
        f"  total launches {summary['total_launches_observed']}, simulated 90% interval "
        f"[{summary['total_launches_90_low']:g}, {summary['total_launches_90_high']:g}]; PIT histogram (10 bins) "
        f"{summary['pit_histogram']}"
    )
    for name, verdict in summary["facts"].items():
        print(f"  {name} {verdict:>4}: {summary['fact_details'][name]}")
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    _output_dir(args.out)
    scenario, record = _scenario_and_record(args, continued=False)

    from .history.calibration import (
        calibrate,
        install_calibration,
        resolution_effect_over_posterior,
        resolution_effect_summary,
        write_calibration,
    )
    from .history.checks import CHECKS_FILE, simulation_based_calibration, write_checks
    from .io import atomic_write_text
    from .sweep.runner import make_executor

    out = Path(args.out)
    if args.explanations:
        from .history.explanations import compare_explanations

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
    if args.sbc:
        with make_executor(args.workers, args.dask) as (executor, parallelism):
            figures = simulation_based_calibration(
                scenario, record, truths=args.sbc, executor=executor, parallelism=parallelism, **budget
            )
        written = [write_checks(figures, out / "calibration_checks.json")]
        if args.install:
            written.append(write_checks(figures, CHECKS_FILE))
        print(
            f"simulation-based calibration, {args.sbc} truths from the prior: the 50% credible intervals contain "
            f"the truth in {figures['sbc_coverage_50']:.2f} of cases (SE {figures['sbc_coverage_50_se']:.2f}), the "
            f"90% intervals in {figures['sbc_coverage_90']:.2f} (SE {figures['sbc_coverage_90_se']:.2f})"
        )
        print(f"wrote {' and '.join(map(str, written))}")
        return 0
    if args.restart:
        for path in sorted(out.glob("generation_*.json")) + sorted(out.glob("generation_*.parquet")):
            path.unlink()
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
        print(
            f"installed as {calibrated} (posterior sample {posterior}): the parameter table's defaults now read it "
            f"(docs/ODD.md {'updated' if update_odd_after_install() else 'unchanged'})"
        )
    return 0


def update_odd_after_install() -> bool:
    """Regenerate the ODD's parameter table in a fresh interpreter (the table is read at import)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "params", "--update-odd"], capture_output=True, text=True
    )
    return "updated" in done.stdout


# ---------------------------------------------------------------------------------------------
# escalation params
# ---------------------------------------------------------------------------------------------


def cmd_params(args: argparse.Namespace) -> int:
    from model.params import TABLE, table_markdown

    if args.update_odd:
        from .docs import ODD_PATH, update_odd

        print(f"{ODD_PATH}: {'updated' if update_odd() else 'already up to date'}")
        return 0
    if args.markdown:
        print(table_markdown())
        return 0
    rows = [p for p in TABLE.values() if args.kind is None or p.kind == args.kind]
    name_w = max(len(p.name) for p in rows)
    for p in rows:
        default = str(p.default).lower() if p.dtype is bool else str(p.default)
        print(f"{p.name:<{name_w}}  {p.kind:<11}  {default:<24}  {p.allowed:<18}  {p.unit}")
        print(f"{'':<{name_w}}  {p.meaning}. Source: {p.source}")
    return 0


# ---------------------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _weeks(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_WEEKS} weeks (100 years), got {value}")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {value}")
    return value


def _output_dir(path: str | None) -> None:
    """Refuse, before any work, an empty output path or one that exists and is not a directory."""
    if path is not None and not path.strip():
        raise UserError("--out is empty; give a directory, e.g. --out results/mine")
    if path and Path(path).exists() and not Path(path).is_dir():
        raise UserError(f"--out {path} exists and is not a directory")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed from 0 to 2**64-1, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected an integer seed from 0 to 2**64-1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``escalation`` argument parser (sub-commands added by each module's ``add_parser``)."""
    parser = _Parser(
        prog="escalation",
        description=(
            "Agent-based model of pressure, engagement and talks on the Korean peninsula: single runs, "
            "policy sweeps, reports, historical replay and calibration."
        ),
        epilog="Run `escalation COMMAND --help` for the options of a command. Exit status: 0 done; 2 bad input "
        "(one line says what and what is allowed); 3 a fault that is not the input (a worker or the Dask "
        "scheduler died, the disk is full, a results file is damaged: rerun the same command to resume); "
        "130 Ctrl-C; 143 SIGTERM.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="one run of the model; prints its outcomes",
        description="Run the model once and print the run's outcomes.",
    )
    run.add_argument("--seed", type=_seed, default=1, help="random seed, 0 to 2**64-1 (default 1)")
    run.add_argument("--weeks", type=_weeks, default=52, help="weeks to simulate (default 52, at most 5200)")
    run.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); `escalation params` lists names and ranges",
    )
    run.add_argument(
        "--engine",
        choices=("mesa", "batched"),
        default="mesa",
        help="mesa: the inspectable reference (default); batched: the array engine (same numbers)",
    )
    run.add_argument("--json", action="store_true", help="print the outcomes as one JSON object")
    run.add_argument("--trajectory", metavar="FILE.csv", help="also write the weekly series to this CSV file")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser(
        "sweep",
        help="run (or resume) a policy sweep from a TOML config",
        description="Run every design point of a TOML experiment config for its replicates, writing Parquet "
        "chunks with provenance into the output directory, then print the answer on one screen (P(talks), "
        "for a sweep over the calibration posterior averaged over the draws with its 95% t interval over them; "
        "time to talks; testing; and the parameters each effect rests on) and save the summary (every "
        "estimate with its 95% interval) and the P(talks) heatmap. `make run` runs experiments/configs/policy_posterior.toml. "
        "Rerunning the same config into the same directory resumes: finished chunks are kept. A config "
        "may sample uncertainties over ranges ([uncertainties]) or draw them from the calibration "
        "posterior ([posterior]); see the README.",
    )
    sweep.add_argument(
        "config",
        help="experiment config (TOML), e.g. experiments/configs/policy_posterior.toml (the policy grid over the "
        "calibration posterior) or experiments/configs/policy_grid.toml (the grid at the calibrated point)",
    )
    sweep.add_argument("--out", help="results directory (default results/<experiment name>)")
    sweep.add_argument("--replicates", type=_positive_int, help="replicates per design point (overrides the config)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local worker processes (default: all cores)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    sweep.add_argument("--engine", choices=("batched", "mesa"), help="engine (default: the config's, else batched)")
    sweep.add_argument("--chunk-size", type=_positive_int, help="runs per task and per file (default by engine)")
    sweep.add_argument("--shard", metavar="i/N", help="run only shard i of N (job arrays); shards share --out")
    sweep.add_argument("--overwrite", action="store_true", help="discard results of another experiment in --out")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=cmd_sweep)

    params = sub.add_parser(
        "params",
        help="print the parameter table",
        description="Print every parameter: kind, default, allowed range, unit, meaning, source.",
    )
    params.add_argument("--kind", choices=("lever", "uncertainty", "constant"), help="only parameters of this kind")
    params.add_argument("--markdown", action="store_true", help="print as a Markdown table")
    params.add_argument(
        "--update-odd", action="store_true", help="regenerate docs/ODD.md's parameter table and validation results"
    )
    params.set_defaults(func=cmd_params)

    replay = sub.add_parser(
        "replay",
        help="replay a historical scenario beside the record; scores and stylised facts",
        description="Run a scenario (levers by date, see the README) for many replicates on the batched engine and "
        "set it beside the record month by month, scored over a window of months: coverage of the "
        "observed monthly launch counts by the 50% and 90% predictive intervals, the randomised PIT "
        "histogram, the CRPS of monthly launches beside a naive baseline (a Poisson forecast at the "
        "fitted period's mean monthly rate) and its skill score, the window's total launches against "
        "the simulated 90% interval, and the stylised facts F1-F5 as pass, fail or n/a (not covered "
        "by the scored window).",
    )
    replay.add_argument("scenario", help="scenario TOML, e.g. experiments/scenarios/history_2016_2018.toml")
    replay.add_argument(
        "--record", metavar="CSV", help="monthly record (default: the scenario's, else data/dprk_monthly_2016_2018.csv)"
    )
    replay.add_argument("--replicates", type=_positive_int, default=500, help="replicates (default 500)")
    replay.add_argument("--seed", type=_seed, default=2016, help="experiment seed (default 2016)")
    replay.add_argument(
        "--out",
        help="also write replay_monthly.csv, replay_replicates.parquet (every replicate's "
        "monthly counts), replay_scores.json and the figure here",
    )
    replay.add_argument(
        "--score-from",
        metavar="YYYY-MM",
        help="first month scored (default: the scenario's first); "
        "the whole scenario is simulated, only the scores and facts are restricted",
    )
    replay.add_argument("--score-to", metavar="YYYY-MM", help="last month scored (default: the scenario's last)")
    replay.add_argument(
        "--posterior",
        nargs="?",
        const="installed",
        metavar="CSV",
        help="each replicate draws its parameters from the posterior sample (default: the installed "
        "data/calibration_posterior.csv) instead of using the calibrated point: the posterior predictive "
        "distribution, whose intervals include what the record leaves unknown about the parameters",
    )
    replay.add_argument("--json", action="store_true", help="print the scores and facts as one JSON object")
    replay.set_defaults(func=cmd_replay)

    calibrate = sub.add_parser(
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
    calibrate.add_argument("scenario", help="scenario TOML covering 2016-2018")
    calibrate.add_argument("--record", metavar="CSV", help="monthly record (default: the scenario's)")
    budget = calibrate.add_argument_group(
        "budget",
        "the cost is about population / accept x replicates simulations for generation 0, then at least "
        "population x replicates per generation (fewer accepted as the tolerance tightens); 2016-2018 runs "
        "about 14,000 simulations a second per core (`escalation bench`: calibration_simulations_per_s)",
    )
    budget.add_argument(
        "--population", type=_positive_int, default=1000, help="particles per generation (default 1000)"
    )
    budget.add_argument(
        "--generations",
        type=_positive_int,
        default=20,
        help="SMC generations at most (default 20); the run ends sooner, at the last generation it can fill "
        "within --max-simulations (the tolerance has reached the simulation noise)",
    )
    budget.add_argument(
        "--accept", type=_share, default=0.02, help="share of prior draws kept in generation 0 (default 0.02)"
    )
    budget.add_argument(
        "--replicates",
        type=_positive_int,
        default=10,
        help="replays per particle; a particle weighs the share of its replays within the tolerance (default 10)",
    )
    budget.add_argument(
        "--max-simulations",
        type=_positive_int,
        default=2_000_000,
        metavar="N",
        help="simulations a generation may spend filling its population before the run stops at the "
        "previous generation (default 2,000,000)",
    )
    budget.add_argument(
        "--block",
        type=_positive_int,
        default=2000,
        help="particles per task (each task runs block x replicates simulations; default 2000)",
    )
    budget.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="local worker processes (default: all cores; 1 runs in this process)",
    )
    budget.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the simulations on this Dask scheduler instead (e.g. tcp://127.0.0.1:8786); same numbers as locally",
    )
    calibrate.add_argument("--seed", type=_seed, default=1, help="seed (default 1)")
    calibrate.add_argument(
        "--out",
        default="results/calibration",
        help="output directory (default results/calibration); each finished generation is saved "
        "there and a rerun with the same settings continues after the last one",
    )
    calibrate.add_argument(
        "--restart", action="store_true", help="discard the generations saved in --out and start afresh"
    )
    calibrate.add_argument(
        "--sbc",
        type=_positive_int,
        metavar="TRUTHS",
        help="instead of fitting the record, check the method: simulation-based calibration on "
        "TRUTHS parameter vectors drawn from the prior, each fitted (with the budget options) "
        "to a synthetic record; writes calibration_checks.json into --out (with --install, "
        "into data/ as well)",
    )
    calibrate.add_argument(
        "--explanations",
        type=_positive_int,
        metavar="DRAWS",
        help="instead of fitting, compare the explanations of the 2018 pause (completed programme, "
        "talks, declared moratorium) by ABC model choice: DRAWS prior draws for the full model "
        "and for the model without each, the --accept share closest to the record kept; writes "
        "explanations.csv into --out",
    )
    calibrate.add_argument(
        "--install",
        action="store_true",
        help="write the result to model/calibrated.toml (with --sbc: the checks to data/calibration_checks.json)",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")
    calibrate.set_defaults(func=cmd_calibrate)

    report = sub.add_parser(
        "report",
        help="figures and a Markdown report for a results directory",
        description="Write every figure (PDF and PNG) and report.md (estimates with intervals, paired policy "
        "contrasts against a baseline, testing cost, provenance) into a results directory made by "
        "`escalation sweep`.",
    )
    report.add_argument("results", help="results directory written by `escalation sweep`")
    report.add_argument(
        "--baseline",
        metavar="POLICY",
        help="baseline policy for the paired contrasts, as lever=value pairs joined by commas, e.g. "
        "'exercise_policy=as_scheduled,engagement_stance=pressure_first,sanctions_level=1'. "
        "Levers left out are matched: each policy is compared with the baseline at its own value "
        "of them (e.g. 'exercise_policy=as_scheduled' gives the effect of each exercise policy at "
        "every sanctions level and stance). Default: the first value of each lever in the config, "
        "with the sanctions level at its highest (for policy_posterior and policy_grid: as scheduled, pressure first, "
        "sanctions level 1)",
    )
    report.set_defaults(func=lambda args: __import__("experiments.analysis.report", fromlist=["main"]).main(args))

    bench = sub.add_parser(
        "bench",
        help="measure engine speed and sweep memory (prints JSON)",
        description="Benchmark the Mesa engine, mesa.batch_run and the batched engine on the "
        "policy_grid design, and the peak memory of a 10^6-run sweep; prints one "
        "JSON object. Figures, not tests: nothing passes or fails.",
    )
    bench.add_argument("--quick", action="store_true", help="smaller samples (under a minute)")
    bench.set_defaults(func=lambda args: __import__("experiments.bench", fromlist=["main"]).main(args.quick))

    _add_sensitivity(sub)
    _add_discover(sub)
    add_app_parser(sub)
    return parser


def _lazy(module: str):
    """The ``main(args)`` of a module, imported when the command runs (keeps `--help` fast)."""
    return lambda args: __import__(f"experiments.analysis.{module}", fromlist=["main"]).main(args)


def _add_sensitivity(sub) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis: Morris screen, Sobol' indices, parameters vs noise",
        description="Which uncertain parameters drive the outcomes, and how much of their variance is the simulation's "
        "own noise. A Morris screen over every uncertainty (the config's [uncertainties], the support of "
        "its [posterior], or else every uncertainty of the parameter table over its allowed range), then "
        "Sobol' first-order (S1) and total (ST) indices with 95% bootstrap intervals for the most "
        "influential ([sensitivity] top, default 10), on the batched engine with the same replicate seeds "
        "at every point (common random numbers). Reports, per outcome, the share of one run's variance due "
        "to the seeds and whether the indices computed from half the sample agree (converged). Writes "
        "tables (CSV, Markdown), the sample points and figures to --out. Example config: "
        "experiments/configs/sensitivity.toml.",
    )
    p.add_argument(
        "config",
        help="config TOML: [experiment] (weeks, replicates, seed), the policy fixed in [params], "
        "optional [uncertainties] or [posterior], and [sensitivity] (method, trajectories, "
        "samples, top, outcomes, bootstrap)",
    )
    p.add_argument(
        "--method",
        choices=("morris", "sobol"),
        help="only a Morris screen, or only Sobol' indices, of every parameter (default: the config's "
        "method, else a Morris screen then Sobol' on the top parameters)",
    )
    p.add_argument(
        "--samples",
        type=_positive_int,
        metavar="N",
        help="Morris trajectories (with --method morris; even) or the Sobol' base sample N (a power of 2)",
    )
    p.add_argument(
        "--replicates", type=_positive_int, metavar="R", help="replicate seeds per point (overrides the config)"
    )
    p.add_argument("--out", metavar="DIR", help="output directory (default results/<experiment name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local worker processes (default: all cores)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: indices (outcome, parameter, S1, S1_conf, ST, ST_conf or mu_star, "
        "sigma), noise_share and converged per outcome",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=lambda args: __import__("experiments.sensitivity", fromlist=["main"]).main(args))


def _add_discover(sub) -> None:
    p = sub.add_parser(
        "discover",
        help="scenario discovery (PRIM): where in parameter space a policy fails",
        description="Find boxes of the uncertain parameters (a sweep's [uncertainties] scenarios or [posterior] draws, "
        "or the points of `escalation sensitivity`) in which an outcome is bad, with the Patient Rule "
        "Induction Method (EMA Workbench's prim). A case is one scenario under one policy; it is "
        "'of interest' when the scenario's estimate of the outcome is below (or above) a threshold. "
        "Prints the chosen box's limits, coverage and density; writes the peeling trajectory "
        "(coverage-density trade-off figure) and the box to --out.",
    )
    p.add_argument(
        "results", help="results directory of `escalation sweep` (sampled scenarios) or of `escalation sensitivity`"
    )
    p.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="outcome column, e.g. talks (a yes/no outcome is estimated per scenario as a probability)",
    )
    p.add_argument(
        "--below",
        type=float,
        metavar="X",
        help="a case is of interest when the scenario's estimate is below X (default: below 0.5 for a "
        "probability, else below the median)",
    )
    p.add_argument("--above", type=float, metavar="X", help="... or above X instead")
    p.add_argument(
        "--policy",
        action="append",
        metavar="LEVER=VALUE",
        help="only the design points with this lever value (repeatable), e.g. "
        "engagement_stance=pressure_and_engagement",
    )
    p.add_argument(
        "--threshold", type=_share, default=0.8, help="PRIM's minimum density of the chosen box (default 0.8)"
    )
    p.add_argument(
        "--mass-min", type=_share, default=0.05, help="PRIM's minimum share of cases in a box (default 0.05)"
    )
    p.add_argument("--out", metavar="DIR", help="where to write discovery_<outcome>.* (default: the results directory)")
    p.add_argument("--json", action="store_true", help="print the box and its statistics as one JSON object")
    p.set_defaults(func=_lazy("discovery"))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``escalation`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (embedded use): leave SIGTERM alone
        previous = None
    try:
        return int(args.func(args) or 0)
    except (ParameterError, UserError) as error:
        _fail(str(error))
    except Fault as error:
        _fail(str(error), EXIT_FAULT)
    except FileNotFoundError as error:
        _fail(f"file not found: {error.filename or error}")
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as error:  # a full disk, an I/O error, a file we may not write
        _fail(_os_error(error), EXIT_FAULT)
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("escalation: terminated (SIGTERM); finished chunks are kept and a rerun resumes", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("escalation: interrupted; finished chunks are kept and a rerun resumes", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
