"""Overhead of tracing and lineage on `floe compile`: on vs off.

    python benchmarks/observability.py [--repeat N] [--product NAME] [--loops N] [--port 14417]

Numbers are reported (printed, and saved to benchmarks/results/observability.json), never asserted.

off      telemetry and lineage disabled: no OTEL_* variables, a manifest (demo/manifest.embedded.yaml)
         without ``telemetry_backend`` and ``lineage_backend``.
on       OTLP/gRPC export (floe's default protocol) to a real collector (rotel from the venv, on
         --port/--port+1, never the platform's 4317/4318, traces discarded after receipt) and
         OpenLineage to a file transport (``lineage_backend: file``). The collector's log is read
         back to check the spans arrived.
on-http  the same with OTLP over HTTP/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, --port+1).

cold        ``floe compile`` in a new interpreter, the modes interleaved (n = --repeat each), as a
            user runs it: the OTLP exporter's imports, the reachability probe, the spans and the
            flush at exit are all in the "on" figure.
in-process  ``compile_pipeline`` called --loops times in one warm process per mode (after one
            warm-up call); the spans' cost per compile, without imports. The final flush is
            reported apart.
lineage     per-event cost of ``LineageEmitter.emit`` through the file transport (compile itself
            emits no OpenLineage events; runs do, one START/COMPLETE pair per run and per model).

Overhead % = (median on - median off) / median off. Each run of this script starts its own
collector and stops it (by PID) at the end; the demo is copied to a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
RESULTS = ROOT / "benchmarks" / "results" / "observability.json"
_COPY_IGNORE = shutil.ignore_patterns("target", "logs", "dbt_packages", ".floe", "*.duckdb", "*.duckdb.wal",
                                      ".user.yml", "lineage.jsonl")
_ISOLATED = ("OTEL_", "OPENLINEAGE_")
MODES = ("off", "on", "on-http")


# -- set-up -----------------------------------------------------------------------------------------
def manifests(demo: Path, port: int, lineage_file: Path) -> dict[str, Path]:
    """The embedded manifest with observability off, and with OTLP + file lineage on."""
    import yaml

    base = yaml.safe_load((demo / "manifest.embedded.yaml").read_text())
    out = {}
    for mode in MODES:
        doc = json.loads(json.dumps(base))
        plugins = doc["plugins"]
        plugins.pop("telemetry_backend", None)
        plugins.pop("lineage_backend", None)
        if mode != "off":
            http = mode == "on-http"
            plugins["telemetry_backend"] = {"type": "otlp", "endpoint": f"http://127.0.0.1:{port + http}",
                                            "protocol": "http" if http else "grpc"}
            plugins["lineage_backend"] = {"type": "file", "path": str(lineage_file)}
        path = demo / f"manifest.bench-{mode}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out[mode] = path
    return out


def env_for(mode: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED)}
    if mode == "on":
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}", OTEL_SERVICE_NAME="floe-bench")
    elif mode == "on-http":
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port + 1}", OTEL_SERVICE_NAME="floe-bench",
                   OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    return env


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_collector(port: int, log: Path) -> subprocess.Popen[bytes]:
    from importlib.util import find_spec

    for p in (port, port + 1):
        if _port_open(p):
            raise SystemExit(f"port {p} is in use; pass --port with two free ports")
    spec = find_spec("rotel")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("rotel is not installed in this environment (make setup)")
    agent = Path(next(iter(spec.submodule_search_locations))) / "rotel-agent"
    proc = subprocess.Popen(
        [str(agent), "start", "--otlp-grpc-endpoint", f"127.0.0.1:{port}", "--otlp-http-endpoint",
         f"127.0.0.1:{port + 1}", "--exporter", "blackhole", "--debug-log", "traces",
         "--debug-log-verbosity", "basic"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while not _port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise SystemExit(f"the collector did not start; see {log}")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spans_received(log: Path) -> int:
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
    return sum(int(n) for n in re.findall(r"Received traces\..*?\bspans=(\d+)", text))


# -- measurements -----------------------------------------------------------------------------------
def cold(product: Path, manifest: dict[str, Path], port: int, out: Path, repeat: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    for i in range(repeat):
        for mode in MODES[i % len(MODES):] + MODES[:i % len(MODES)]:  # rotate the order: drift hits all
            cmd = [sys.executable, "-m", "floe.cli.main", "compile", str(product), "-m", str(manifest[mode]),
                   "-o", str(out / mode)]
            start = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env_for(mode, port), check=False)
            elapsed = time.perf_counter() - start
            if r.returncode != 0 or "unavailable" in r.stderr:
                raise SystemExit(f"compile ({mode}) failed or lost telemetry:\n{r.stdout}\n{r.stderr}")
            samples[mode].append(elapsed)
    return samples


def in_process(product: Path, manifest: Path, out: Path, loops: int, mode: str, port: int,
               env_mode: str) -> dict[str, Any]:
    """Run this script's --in-process mode in a fresh interpreter (one OTel provider per process)."""
    cmd = [sys.executable, __file__, "--in-process", mode, "--product-dir", str(product), "--manifest",
           str(manifest), "--out", str(out / f"inproc-{mode}"), "--loops", str(loops)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env_for(env_mode, port), check=False)
    if r.returncode != 0:
        raise SystemExit(f"in-process benchmark ({mode}) failed:\n{r.stderr}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def _in_process_child(args: argparse.Namespace) -> None:
    from floe.compiler.stages import compile_pipeline
    from floe.telemetry import flush, init_telemetry

    exporting = init_telemetry() if args.in_process != "off" else False
    compile_pipeline(args.product_dir, args.manifest, output_dir=args.out)  # warm-up: imports, caches
    samples = []
    for _ in range(args.loops):
        start = time.perf_counter()
        compile_pipeline(args.product_dir, args.manifest, output_dir=args.out)
        samples.append(time.perf_counter() - start)
    start = time.perf_counter()
    flush()
    result: dict[str, Any] = {"exporting": exporting, "samples": samples, "flush_s": time.perf_counter() - start}
    if args.in_process == "on":
        result["lineage_emit_s"] = _lineage_emit(args.out, 200)
    print(json.dumps(result))


def _lineage_emit(out: Path, events: int) -> list[float]:
    from floe.lineage.emitter import LineageEmitter, TableRef, new_run_id

    emitter = LineageEmitter({"type": "file", "log_file_path": str(out / "bench-lineage.jsonl"), "append": True},
                             "floe-bench")
    table = TableRef("floe-bench", "raw.customers", [("id", "INTEGER"), ("name", "VARCHAR")])
    samples = []
    for _ in range(events):
        run_id = new_run_id()
        start = time.perf_counter()
        emitter.emit("START", "bench_job", run_id, inputs=[table], outputs=[table])
        samples.append(time.perf_counter() - start)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "n": len(samples)}


def overhead(on: dict[str, float], off: dict[str, float]) -> float:
    return round((on["median_s"] - off["median_s"]) / off["median_s"] * 100, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="cold compiles per mode (>= 5 for a median)")
    parser.add_argument("--loops", type=int, default=20, help="in-process compiles per mode (0: skip)")
    parser.add_argument("--product", default="customer-360")
    parser.add_argument("--port", type=int, default=14417, help="collector gRPC port (HTTP: port + 1)")
    parser.add_argument("--in-process", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--protocol", choices=["grpc", "http"], default="grpc",
                        help="OTLP protocol of the in-process measurement")
    parser.add_argument("--product-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        _in_process_child(args)
        return
    if args.port in {4317, 4318, 14317, 16686} or args.port + 1 in {4317, 4318, 14317, 16686}:
        raise SystemExit("those ports belong to the platform; pick others")

    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="floe-bench-obs-") as tmp_name:
        tmp = Path(tmp_name)
        demo = tmp / "demo"
        shutil.copytree(DEMO, demo, ignore=_COPY_IGNORE)
        product = demo / args.product
        manifest = manifests(demo, args.port, tmp / "lineage.jsonl")
        log = tmp / "collector.log"
        collector = start_collector(args.port, log)
        try:
            samples = cold(product, manifest, args.port, tmp / "out", args.repeat)
            on = "on" if args.protocol == "grpc" else "on-http"
            inproc = {mode: in_process(product, manifest[m], tmp / "out", args.loops, mode, args.port, m)
                      for mode, m in (("off", "off"), ("on", on))} if args.loops else {}
            time.sleep(1.5)  # the collector logs what it received in batches
        finally:
            stop(collector)
        received = spans_received(log)

    results: dict[str, Any] = {}
    cold_summary = {mode: summary(samples[mode]) for mode in MODES}
    for mode in MODES:
        results[f"floe compile {args.product} (cold), {mode}"] = cold_summary[mode]
    record: dict[str, Any] = {
        "machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
        "load_avg_before": load_before, "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "collector": f"rotel (blackhole exporter) on 127.0.0.1:{args.port}", "spans_received": received,
        "results": results,
        "overhead_pct": {f"cold compile, {mode}": overhead(cold_summary[mode], cold_summary["off"])
                         for mode in MODES[1:]},
    }
    if inproc:
        in_off, in_on = summary(inproc["off"]["samples"]), summary(inproc["on"]["samples"])
        results[f"compile_pipeline {args.product} (in-process), off"] = in_off
        results[f"compile_pipeline {args.product} (in-process), on ({args.protocol})"] = in_on
        results["final flush (in-process, on)"] = {"median_s": inproc["on"]["flush_s"], "n": 1}
        lineage = summary(inproc["on"]["lineage_emit_s"])
        results["OpenLineage emit, file transport (per event)"] = lineage
        record["overhead_pct"][f"in-process compile, on ({args.protocol})"] = overhead(in_on, in_off)
        record["in_process_exporting"] = inproc["on"]["exporting"]

    for label, r in results.items():
        extra = f"  min {r['min_s']:.4f}s  max {r['max_s']:.4f}s" if "min_s" in r else ""
        print(f"{label:58s} median {r['median_s']:.4f}s{extra}  (n={r['n']})")
    for label, pct in record["overhead_pct"].items():
        print(f"overhead of tracing + lineage, {label:36s} {pct:+.1f} %")
    print(f"spans received by the collector: {received}; load average before {load_before}, "
          f"after {record['load_avg_after']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
