"""Cold-start benchmark: import the handler in fresh interpreters and report its init time.

    python -m payment_fn.bench [--runs 10]

Prints the module init (imports + Powertools setup, `handler.INIT_DURATION_MS`) and the whole
interpreter start for each run, then min / median / max. A figure to report, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PROBE = "import payment_fn.handler as h; print(h.INIT_DURATION_MS)"


def measure(runs: int) -> list[tuple[float, float]]:
    """(init ms, process ms) per run."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
        ).stdout
        total = (time.perf_counter() - started) * 1000
        results.append((float(output.strip().splitlines()[-1]), total))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    results = measure(runs)
    for label, values in (
        ("init (imports + Powertools) ms", [r[0] for r in results]),
        ("interpreter + init ms", [r[1] for r in results]),
    ):
        print(
            f"{label:32} min {min(values):7.1f}  median {statistics.median(values):7.1f}"
            f"  max {max(values):7.1f}  ({runs} runs)"
        )


if __name__ == "__main__":
    main()
