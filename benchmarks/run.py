"""floe benchmarks: numbers are reported (and saved to benchmarks/results/), never asserted.

    python benchmarks/run.py [--repeat N] [--only NAME ...]

Each measurement is a cold process (a new interpreter), as a user would run it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOE = [sys.executable, "-m", "floe.cli.main"]
PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]


def _time(cmd: list[str], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return samples


def bench_help(repeat: int) -> dict[str, list[float]]:
    return {"floe --help": _time([*FLOE, "--help"], repeat)}


def bench_compile(repeat: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for product in PRODUCTS:
            cmd = [*FLOE, "compile", f"demo/{product}", "--output", f"{tmp}/{product}"]
            out[f"floe compile {product} (cold)"] = _time(cmd, repeat)
    return out


BENCHES: dict[str, Callable[[int], dict[str, list[float]]]] = {"help": bench_help, "compile": bench_compile}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=list(BENCHES))
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for name in args.only:
        for label, samples in BENCHES[name](args.repeat).items():
            results[label] = {"median_s": statistics.median(samples), "min_s": min(samples),
                              "max_s": max(samples), "n": len(samples)}
            print(f"{label:45s} median {results[label]['median_s']:.3f}s  "
                  f"min {results[label]['min_s']:.3f}s  max {results[label]['max_s']:.3f}s  (n={len(samples)})")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"machine": platform.machine(), "python": platform.python_version(), "results": results}
    (out_dir / "latest.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
