"""Engine benchmark: prints one JSON object (see experiments/bench.py for the keys).

Usage:  python benchmarks/bench_engines.py [--quick]     (the same as `escalation bench`)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
