"""The supervisor: a small daemon that owns the platform's processes.

It starts services in dependency order, waits on each one's real health probe with a deadline,
restarts a crashed service with exponential backoff, and on SIGTERM stops everything in reverse order
(SIGTERM to each service's process group, SIGKILL after its stop timeout). Its view of the world is
written atomically to ``$FLOE_HOME/run/state.json`` for `floe platform status`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.home import Home
from floe.platform.services import ServiceSpec
from floe.plugins.registry import load_manifest

STATE_FILE = "state.json"
PID_FILE = "supervisor.pid"
HELD_DIR = "held"
MAX_BACKOFF = 30.0


@dataclass
class Running:
    spec: ServiceSpec
    proc: subprocess.Popen[bytes] | None = None
    state: str = "pending"  # pending|starting|healthy|unhealthy|crashed|failed|stopped
    message: str = ""
    restarts: int = 0
    backoff: float = 1.0
    restart_at: float = 0.0
    healthy_since: float = 0.0
    started_at: float = 0.0
    deadline: float = 0.0
    history: list[str] = field(default_factory=list)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


class Supervisor:
    def __init__(self, home: Home, services: list[ServiceSpec]) -> None:
        self.home = home
        self.services = {s.name: Running(s) for s in services}
        self.order = [s.name for s in services]
        self.stopping = False

    # -- state ------------------------------------------------------------------------------------
    def write_state(self) -> None:
        data: dict[str, Any] = {
            "supervisor_pid": os.getpid(),
            "updated_at": time.time(),
            "services": {
                name: {
                    "state": r.state, "pid": r.proc.pid if r.proc and r.proc.poll() is None else None,
                    "port": r.spec.port, "restarts": r.restarts, "message": r.message,
                    "depends_on": r.spec.depends_on, "started_at": r.started_at,
                }
                for name, r in self.services.items()
            },
            "order": self.order,
        }
        tmp = self.home.run / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.home.run / STATE_FILE)

    # -- process control ----------------------------------------------------------------------------
    def _spawn(self, r: Running) -> None:
        log = (self.home.logs / f"{r.spec.name}.log").open("ab")
        log.write(f"\n=== floe supervisor: starting {r.spec.name} at {time.ctime()} ===\n".encode())
        log.flush()
        env = {**os.environ, **r.spec.env}
        r.proc = subprocess.Popen(
            r.spec.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=r.spec.cwd, start_new_session=True,
        )
        log.close()
        r.started_at = time.time()
        r.state = "starting"
        r.message = f"pid {r.proc.pid}"

    def _stop(self, r: Running) -> None:
        proc = r.proc
        if proc is None or proc.poll() is not None:
            r.state = "stopped"
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=r.spec.stop_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        r.state, r.message = "stopped", "stopped"

    def _launch(self, name: str) -> None:
        """Prepare and spawn one service whose dependencies are healthy (does not wait)."""
        r = self.services[name]
        try:
            if r.spec.prepare is not None:
                r.spec.prepare()
        except Exception as exc:
            r.state, r.message = "failed", f"prepare failed: {type(exc).__name__}: {exc}"
            return
        self._spawn(r)
        r.deadline = time.monotonic() + r.spec.start_timeout

    def _check_starting(self, r: Running) -> None:
        assert r.proc is not None
        if r.proc.poll() is not None:
            r.state, r.message = "crashed", f"exited with code {r.proc.returncode} while starting (see logs)"
            r.restart_at = time.monotonic() + r.backoff
            return
        ok, msg = r.spec.probe.check()
        r.message = msg
        if ok:
            r.state, r.healthy_since = "healthy", time.monotonic()
            if r.spec.after_healthy is not None:
                try:
                    r.spec.after_healthy()
                except Exception as exc:
                    r.state, r.message = "failed", f"post-start step failed: {type(exc).__name__}: {exc}"
        elif time.monotonic() > r.deadline:
            r.state, r.message = "unhealthy", f"not healthy after {r.spec.start_timeout:.0f}s: {msg}"

    def _held(self) -> set[str]:
        """Services an operator stopped with `floe platform stop` (hold files in run/held/)."""
        held = self.home.run / HELD_DIR
        return {p.name for p in held.iterdir()} if held.is_dir() else set()

    def _step(self) -> None:
        """One pass: launch what can start, check what is starting, restart what crashed."""
        now = time.monotonic()
        held = self._held()
        for name in self.order:
            r = self.services[name]
            deps = [self.services[d] for d in r.spec.depends_on]
            if name in held:
                if r.state != "stopped":
                    self._stop(r)
                    r.message = "stopped by `floe platform stop`; `floe platform start` brings it back"
                continue
            if r.state == "stopped":  # released by `floe platform start`
                r.state, r.backoff = "pending", 1.0
            if r.state == "pending":
                if all(d.state == "healthy" for d in deps):
                    self._launch(name)
                else:
                    r.message = "waiting for " + ", ".join(d.spec.name for d in deps if d.state != "healthy")
            elif r.state == "starting":
                self._check_starting(r)
            elif r.state == "healthy":
                if r.proc is not None and r.proc.poll() is not None:
                    r.state = "crashed"
                    r.message = f"exited with code {r.proc.returncode}; restarting in {r.backoff:.0f}s"
                    r.restart_at = now + r.backoff
                elif now - r.healthy_since > 60:
                    r.backoff = 1.0  # stable for a minute: forget earlier crashes
            elif r.state in {"crashed", "unhealthy"} and now >= r.restart_at:
                r.restarts += 1
                r.backoff = min(r.backoff * 2, MAX_BACKOFF)
                r.restart_at = now + r.backoff
                if r.proc is not None and r.proc.poll() is None:
                    self._stop(r)
                if all(d.state == "healthy" for d in deps):
                    self._launch(name)

    # -- main loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.loop()

    def loop(self) -> None:
        """Start, watch and restart until told to stop; then stop everything (no signal handlers here)."""
        while not self.stopping:
            self._step()
            self.write_state()
            time.sleep(0.5)
        self._stop_all()
        self.write_state()

    def _stop_all(self) -> None:
        """Stop every service once nothing that depends on it still runs; independent ones in parallel."""
        remaining = {n for n in self.order if (p := self.services[n].proc) is not None and p.poll() is None}
        signalled: dict[str, float] = {}
        while remaining:
            now = time.monotonic()
            for name in list(remaining):
                r = self.services[name]
                assert r.proc is not None
                if r.proc.poll() is not None:
                    remaining.discard(name)
                    r.state, r.message = "stopped", f"stopped after {now - signalled.get(name, now):.1f}s"
                    continue
                dependents = [d for d in remaining if name in self.services[d].spec.depends_on]
                if name not in signalled and not dependents:
                    _signal_group(r.proc.pid, signal.SIGTERM)
                    signalled[name] = now
                elif name in signalled and now - signalled[name] > r.spec.stop_timeout:
                    _signal_group(r.proc.pid, signal.SIGKILL)
            time.sleep(0.2)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True


def main() -> None:
    parser = argparse.ArgumentParser(prog="floe-supervisor")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--product-dir", action="append", default=[], type=Path)
    args = parser.parse_args()
    from floe.home import ensure_secrets
    from floe.platform.services import build_services

    home = Home.current()
    home.ensure()
    manifest = load_manifest(args.manifest)
    secrets = ensure_secrets(home)
    services = build_services(manifest, home, secrets, args.product_dir)
    pid_file = home.run / PID_FILE
    pid_file.write_text(str(os.getpid()))
    try:
        Supervisor(home, services).run()
    finally:
        pid_file.unlink(missing_ok=True)
        sys.exit(0)


if __name__ == "__main__":
    main()
