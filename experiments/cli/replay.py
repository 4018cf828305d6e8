"""``escalation replay``: a historical scenario replayed beside the record, scored."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError
from .common import jsonable, output_dir, positive_int, seed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``escalation replay`` and its options."""
    parser = subparsers.add_parser(
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
    parser.add_argument("scenario", help="scenario TOML, e.g. experiments/scenarios/history_2016_2018.toml")
    parser.add_argument(
        "--record", metavar="CSV", help="monthly record (default: the scenario's, else data/dprk_monthly_2016_2018.csv)"
    )
    parser.add_argument("--replicates", type=positive_int, default=500, help="replicates (default 500)")
    parser.add_argument("--seed", type=seed, default=2016, help="experiment seed (default 2016)")
    parser.add_argument(
        "--out",
        help="also write replay_monthly.csv, replay_replicates.parquet (every replicate's "
        "monthly counts), replay_scores.json and the figure here",
    )
    parser.add_argument(
        "--score-from",
        metavar="YYYY-MM",
        help="first month scored (default: the scenario's first); "
        "the whole scenario is simulated, only the scores and facts are restricted",
    )
    parser.add_argument("--score-to", metavar="YYYY-MM", help="last month scored (default: the scenario's last)")
    parser.add_argument(
        "--posterior",
        nargs="?",
        const="installed",
        metavar="CSV",
        help="each replicate draws its parameters from the posterior sample (default: the installed "
        "data/calibration_posterior.csv) instead of using the calibrated point: the posterior predictive "
        "distribution, whose intervals include what the record leaves unknown about the parameters",
    )
    parser.add_argument("--json", action="store_true", help="print the scores and facts as one JSON object")
    return parser


def scenario_and_record(args: argparse.Namespace, continued: bool = True):
    """The scenario and the record to compare it with (``--record``, else the scenario's own),
    both validated before any simulation; ``continued=False`` refuses a scenario that continues
    another (calibration fits a period from its own starting state)."""
    from ..history.record import load_record_for
    from ..history.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if not continued and scenario.continue_from is not None:
        raise UserError(
            f"{args.scenario} continues {Path(scenario.continue_from.source).name}: calibrate fits a period from the "
            "state its own [params] set; calibrate the first period, then replay the continued one"
        )
    for note in scenario.notes:
        print(f"note: {note}", file=sys.stderr)
    return scenario, load_record_for(scenario, args.record)


def run(args: argparse.Namespace) -> int:
    """Replay a scenario beside the record and print its scores and facts."""
    output_dir(args.out)
    from ..analysis.report import write_replay
    from ..history.posterior import default_posterior_file, read_posterior
    from ..history.replay import Replay

    posterior = None
    if args.posterior is not None:
        posterior = read_posterior(default_posterior_file() if args.posterior == "installed" else args.posterior)
    scenario, record = scenario_and_record(args)
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
        print(json.dumps(jsonable(summary), indent=2))
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
