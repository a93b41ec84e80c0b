"""The supervisor: a small daemon that owns the platform's processes.

It starts services in dependency order, waits on each one's real health probe with a deadline,
restarts a crashed service with exponential backoff, and on SIGTERM stops everything in reverse order
(SIGTERM to each service's process group, SIGKILL after its stop timeout). Its view of the world is
written atomically to ``$FLOE_HOME/run/state.json`` for `floe platform status`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.platform.home import Home
from floe.platform.services import ServiceSpec

STATE_FILE = "state.json"
PID_FILE = "supervisor.pid"
MAX_BACKOFF = 30.0


@dataclass
class Running:
    spec: ServiceSpec
    proc: subprocess.Popen[bytes] | None = None
    state: str = "pending"  # pending|starting|healthy|unhealthy|crashed|failed|blocked|stopped
    message: str = ""
    restarts: int = 0
    backoff: float = 1.0
    restart_at: float = 0.0
    healthy_since: float = 0.0
    started_at: float = 0.0
    history: list[str] = field(default_factory=list)


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
        r.proc = subprocess.Popen(  # noqa: S603 - fixed argv built from our own service specs
            r.spec.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=r.spec.cwd, start_new_session=True,
        )
        log.close()
        r.started_at = time.time()
        r.state = "starting"
        r.message = f"pid {r.proc.pid}"

    def _wait_healthy(self, r: Running) -> bool:
        deadline = time.monotonic() + r.spec.start_timeout
        while time.monotonic() < deadline and not self.stopping:
            assert r.proc is not None
            if r.proc.poll() is not None:
                r.state, r.message = "crashed", f"exited with code {r.proc.returncode} while starting (see logs)"
                return False
            ok, msg = r.spec.probe.check()
            if ok:
                r.state, r.message, r.healthy_since = "healthy", msg, time.monotonic()
                return True
            r.message = msg
            self.write_state()
            time.sleep(0.5)
        if not self.stopping:
            r.state, r.message = "unhealthy", f"not healthy after {r.spec.start_timeout:.0f}s: {r.message}"
        return False

    def _stop(self, r: Running) -> None:
        proc = r.proc
        if proc is None or proc.poll() is not None:
            r.state = "stopped"
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=r.spec.stop_timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        r.state, r.message = "stopped", "stopped"

    def _start(self, name: str) -> None:
        r = self.services[name]
        blocked = [d for d in r.spec.depends_on if self.services[d].state != "healthy"]
        if blocked:
            r.state, r.message = "blocked", f"waiting for {', '.join(blocked)}"
            return
        try:
            if r.spec.prepare is not None:
                r.spec.prepare()
        except Exception as exc:
            r.state, r.message = "failed", f"prepare failed: {type(exc).__name__}: {exc}"
            return
        self._spawn(r)
        self.write_state()
        if self._wait_healthy(r) and r.spec.after_healthy is not None:
            try:
                r.spec.after_healthy()
            except Exception as exc:
                r.state, r.message = "failed", f"post-start step failed: {type(exc).__name__}: {exc}"

    # -- main loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for name in self.order:
            if self.stopping:
                break
            self._start(name)
            self.write_state()
        while not self.stopping:
            self._monitor()
            self.write_state()
            time.sleep(0.5)
        for name in reversed(self.order):
            self._stop(self.services[name])
            self.write_state()

    def _monitor(self) -> None:
        now = time.monotonic()
        for name in self.order:
            r = self.services[name]
            if r.state in {"healthy", "starting"} and r.proc is not None and r.proc.poll() is not None:
                r.state = "crashed"
                r.message = f"exited with code {r.proc.returncode}; restarting in {r.backoff:.0f}s"
                r.restart_at = now + r.backoff
            elif r.state == "healthy" and now - r.healthy_since > 60:
                r.backoff = 1.0  # stable for a minute: forget earlier crashes
            if r.state in {"crashed", "unhealthy", "blocked"} and now >= r.restart_at:
                if r.state != "blocked":
                    r.restarts += 1
                    r.backoff = min(r.backoff * 2, MAX_BACKOFF)
                    if r.proc is not None and r.proc.poll() is None:
                        self._stop(r)
                self._start(name)
                if r.state != "healthy":
                    r.restart_at = time.monotonic() + r.backoff

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True


def main() -> None:
    parser = argparse.ArgumentParser(prog="floe-supervisor")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--product-dir", action="append", default=[], type=Path)
    args = parser.parse_args()
    from floe.config.loader import load_model
    from floe.config.manifest import PlatformManifest
    from floe.platform.home import ensure_secrets
    from floe.platform.services import build_services

    home = Home.current()
    home.ensure()
    manifest = load_model(args.manifest, PlatformManifest)
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
