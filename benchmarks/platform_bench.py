"""Local platform benchmarks: cold `floe platform up` to all healthy, and the platform's memory.

    python benchmarks/platform_bench.py up        # fresh FLOE_HOME: time `up`, sample memory, `down`
    python benchmarks/platform_bench.py sample    # sample the running platform's RSS until interrupted

Memory is the sum of RSS over every service process and its children (Dagster code servers and run
workers included), sampled every second; the peak is reported. Numbers are printed and written to
benchmarks/results/platform.json, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FLOE = [sys.executable, "-m", "floe.cli.main"]


def platform_rss() -> tuple[int, dict[str, int]]:
    from floe.home import Home

    state_file = Home.current().run / "state.json"
    if not state_file.exists():
        return 0, {}
    state = json.loads(state_file.read_text())
    per: dict[str, int] = {}
    for name, s in state["services"].items():
        if not s.get("pid"):
            continue
        try:
            proc = psutil.Process(s["pid"])
            procs = [proc, *proc.children(recursive=True)]
            per[name] = sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.Error:
            continue
    return sum(per.values()), per


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def sample(seconds: float | None) -> dict[str, object]:
    import signal

    signal.signal(signal.SIGTERM, _interrupt)  # background jobs ignore SIGINT; stop with SIGTERM
    peak, peak_per = 0, {}
    start = time.monotonic()
    try:
        while seconds is None or time.monotonic() - start < seconds:
            total, per = platform_rss()
            if total > peak:
                peak, peak_per = total, per
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    return {"peak_rss_mb": round(peak / 2**20), "per_service_mb": {k: round(v / 2**20) for k, v in peak_per.items()}}


def bench_up() -> dict[str, object]:
    home = tempfile.mkdtemp(prefix="floe-bench-home-")
    env = {**os.environ, "FLOE_HOME": home}
    os.environ["FLOE_HOME"] = home
    start = time.monotonic()
    subprocess.run([*FLOE, "platform", "up"], check=True, env=env, cwd=ROOT, capture_output=True)
    up_s = time.monotonic() - start
    mem = sample(20)
    subprocess.run([*FLOE, "platform", "down"], check=True, env=env, cwd=ROOT, capture_output=True)
    return {"cold_up_seconds": round(up_s, 1), **mem, "load_avg": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["up", "sample"])
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    result = bench_up() if args.what == "up" else sample(args.seconds)
    print(json.dumps(result, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"platform-{args.what}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
