"""`floe platform` operations: up, down, status, logs, bootstrap, upgrade, rollback, recover."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from floe.errors import FloeError
from floe.home import Home, ensure_secrets
from floe.platform.release import ReleaseStore, Revision
from floe.platform.supervisor import HELD_DIR, PID_FILE, STATE_FILE
from floe.plugins.registry import load_manifest as _load_manifest

DEFAULT_MANIFEST = Path("demo/manifest.yaml")


def load_manifest(path: Path) -> Any:
    return _load_manifest(path)


def discover_products(manifest_path: Path, manifest: Any) -> list[Path]:
    base = manifest_path.resolve().parent
    found: list[Path] = []
    for pattern in manifest.platform.products:
        found += [p.parent for p in sorted(base.glob(pattern))]
    return found


def compile_products(manifest_path: Path, products: list[Path]) -> dict[str, Path]:
    """Compile each product for this manifest into its default output folder; product name -> folder."""
    from floe.compiler.stages import compile_pipeline, default_output_dir

    manifest = load_manifest(manifest_path)
    dirs = {}
    for product in products:
        out = default_output_dir(product / "floe.yaml", manifest)
        dirs[compile_pipeline(product, manifest_path, output_dir=out).metadata.product_name] = out
    return dirs


def parse_products(artifact_dirs: list[Path]) -> None:
    """Parse each compiled product's dbt project once, so Dagster's code servers only load (several of
    them parsing the same project at once would collide). Needs the products' credentials in place."""
    from floe.contract import ARTIFACTS_FILE
    from floe.runtime.context import RunContext
    from floe.runtime.dbt import ensure_dbt_manifest

    for d in artifact_dirs:
        ensure_dbt_manifest(RunContext.load(d / ARTIFACTS_FILE))


def supervisor_pid(home: Home) -> int | None:
    path = home.run / PID_FILE
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return None
    return pid


def read_state(home: Home) -> dict[str, Any] | None:
    path = home.run / STATE_FILE
    if not path.exists():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except json.JSONDecodeError:
        return None


def _start_supervisor(home: Home, manifest_path: Path, artifact_dirs: list[Path]) -> int:
    (home.run / STATE_FILE).unlink(missing_ok=True)
    for hold in (home.run / HELD_DIR).glob("*"):  # a new revision starts every service
        hold.unlink()
    cmd = [sys.executable, "-m", "floe.platform.supervisor", "--manifest", str(manifest_path.resolve())]
    for d in artifact_dirs:
        cmd += ["--product-dir", str(d)]
    log = (home.logs / "supervisor.log").open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    log.close()
    return proc.pid


def wait_until_healthy(home: Home, pid: int, timeout: float,
                       on_change: Callable[[str, str, str], None] | None = None) -> dict[str, Any]:
    """Follow the supervisor's state until every service is healthy, one fails, or the deadline passes."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        state = read_state(home)
        alive = _alive(pid)
        if state:
            services = state["services"]
            for name, s in services.items():
                if seen.get(name) != s["state"]:
                    seen[name] = s["state"]
                    if on_change:
                        on_change(name, s["state"], s["message"])
            if all(s["state"] == "healthy" for s in services.values()):
                return state
            failed = {n: s for n, s in services.items() if s["state"] in {"failed", "unhealthy"}}
            if failed:
                detail = "; ".join(f"{n}: {s['message']}" for n, s in failed.items())
                raise FloeError(f"platform did not come up: {detail}",
                                hint="see `floe platform logs <service>`; fix, then `floe platform up` again")
        if not alive:
            raise FloeError("the supervisor exited while starting the platform",
                            hint=f"see {home.logs / 'supervisor.log'}")
        time.sleep(0.5)
    raise FloeError(f"platform not healthy after {timeout:.0f}s",
                    hint="`floe platform status` shows which service is late; `floe platform logs <service>`")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def up(manifest_path: Path, *, operation: str = "install", timeout: float | None = None,
       on_change: Callable[[str, str, str], None] | None = None) -> tuple[Revision, list[Any]]:
    from floe.platform.bootstrap import run_bootstrap
    from floe.platform.services import local_platform

    home = Home.current()
    home.ensure()
    manifest = load_manifest(manifest_path)
    timeout = timeout or float(manifest.platform.start_timeout_seconds)
    store = ReleaseStore(home)
    existing = supervisor_pid(home)
    if existing and operation == "install":
        current = store.current()
        raise FloeError(f"the platform is already running (supervisor pid {existing}, revision "
                        f"{current.revision if current else '?'})",
                        hint="`floe platform status` to inspect, `floe platform upgrade` to apply changes")
    rev = store.begin(operation, manifest_path, timeout=timeout + 120)
    outcome = f"{operation} complete"
    try:
        from floe.config.principals import per_product

        compiled = compile_products(manifest_path, discover_products(manifest_path, manifest))
        artifact_dirs = list(compiled.values())
        products = list(compiled) if per_product(manifest) else []
        secrets = ensure_secrets(home, products=products)
        applied = fingerprint(home, manifest_path, artifact_dirs)
        if existing and _running(home, existing) == applied:
            # Helm's rule: what did not change is not restarted (a rollback or upgrade to the same
            # inputs only records the revision); bootstrap still verifies every step
            outcome += " (nothing changed: services kept running)"
        else:
            if existing:
                _stop_supervisor(home, existing)
            parse_products(artifact_dirs)
            pid = _start_supervisor(home, manifest_path, artifact_dirs)
            wait_until_healthy(home, pid, timeout, on_change)
            (home.run / APPLIED_FILE).write_text(json.dumps({"supervisor": pid, "fingerprint": applied}))
        steps = run_bootstrap(local_platform(manifest, home, secrets, artifact_dirs))
    except BaseException as exc:
        store.finish(rev.revision, False, f"{operation} failed: {exc}".splitlines()[0][:300])
        raise
    done = store.finish(rev.revision, True, outcome)
    return done, steps


APPLIED_FILE = "applied.json"


def fingerprint(home: Home, manifest_path: Path, artifact_dirs: list[Path]) -> str:
    """What the running services are made from: the manifest, each product's compiled output, the
    generated secrets and this floe. Equal fingerprints mean a restart would change nothing."""
    import hashlib

    from floe._version import __version__

    h = hashlib.sha256(f"{__version__}\0{sys.executable}\0{manifest_path.resolve()}\0".encode())
    h.update(manifest_path.read_bytes())
    for d in artifact_dirs:
        h.update(f"\0{d}\0".encode())
        for name in ("compiled_artifacts.json", "profiles.yml", "definitions.py"):
            h.update((d / name).read_bytes())
    h.update(home.secrets_file.read_bytes() if home.secrets_file.exists() else b"")
    return h.hexdigest()


def _running(home: Home, supervisor: int) -> str | None:
    """The fingerprint the running supervisor was started with, when all of its services are healthy."""
    try:
        applied = json.loads((home.run / APPLIED_FILE).read_text())
    except (OSError, ValueError):
        return None
    state = read_state(home)
    if applied.get("supervisor") != supervisor or not state:
        return None
    if not all(s["state"] == "healthy" for s in state["services"].values()):
        return None
    return str(applied.get("fingerprint"))


def _stop_supervisor(home: Home, pid: int, timeout: float = 120) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.3)
    if _alive(pid):
        raise FloeError(f"supervisor {pid} did not stop within {timeout:.0f}s",
                        hint=f"inspect {home.logs / 'supervisor.log'}; then `kill {pid}`")


def down(timeout: float = 120) -> list[str]:
    """Stop every service; returns the names of services that were running."""
    home = Home.current()
    state = read_state(home) or {"services": {}}
    pid = supervisor_pid(home)
    if pid:
        _stop_supervisor(home, pid, timeout)
    # a supervisor that died leaves its children's pids in the state file: stop those groups
    leftovers = []
    for name, s in (read_state(home) or state)["services"].items():
        child = s.get("pid")
        if child and _alive(child):
            leftovers.append(name)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGTERM)
    return [n for n, s in state["services"].items() if s.get("pid")] + leftovers


def status() -> dict[str, Any]:
    from floe.platform.services import Probe

    home = Home.current()
    state = read_state(home)
    pid = supervisor_pid(home)
    store = ReleaseStore(home)
    services = []
    if state:
        for name in state["order"]:
            s = state["services"][name]
            live = s["state"]
            if pid is None:
                live = "stopped"
            elif s["state"] == "healthy" and s["port"]:
                ok, _ = Probe("tcp", port=s["port"]).check(timeout=1)
                live = "healthy" if ok else "unhealthy"
            services.append({"service": name, "state": live if pid else "stopped",
                             "health": "ok" if live == "healthy" else live,
                             "pid": s["pid"] if pid else None, "port": s["port"], "restarts": s["restarts"],
                             "message": s["message"]})
    current = store.current()
    return {
        "home": str(home.root),
        "supervisor_pid": pid,
        "running": pid is not None,
        "healthy": bool(services) and pid is not None and all(s["state"] == "healthy" for s in services),
        "services": services,
        "release": {"revision": current.revision, "status": current.status, "stuck": current.stuck()}
        if current else None,
        "history": store.as_json(),
    }


def _running_services(home: Home, services: list[str]) -> dict[str, Any]:
    state = read_state(home)
    if supervisor_pid(home) is None or state is None:
        raise FloeError("the platform is not running", hint="`floe platform up` first")
    unknown = [s for s in services if s not in state["services"]]
    if unknown or not services:
        raise FloeError(f"unknown service(s) {unknown or services}",
                        hint=f"services: {', '.join(state['order'])} (see `floe platform status`)")
    return state


def stop_services(services: list[str], timeout: float = 60) -> None:
    """Stop some services and keep them stopped (the supervisor does not restart them) until
    `start_services` or the next `up`/`upgrade`."""
    home = Home.current()
    _running_services(home, services)
    held = home.run / HELD_DIR
    held.mkdir(parents=True, exist_ok=True)
    for name in services:
        (held / name).touch()
    _wait_services(home, services, "stopped", timeout)


def start_services(services: list[str], timeout: float = 120) -> None:
    """Bring services stopped with `stop_services` back and wait until they are healthy."""
    home = Home.current()
    _running_services(home, services)
    for name in services:
        (home.run / HELD_DIR / name).unlink(missing_ok=True)
    _wait_services(home, services, "healthy", timeout)


def _wait_services(home: Home, services: list[str], target: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(home) or {"services": {}}
        late = [s for s in services if state["services"].get(s, {}).get("state") != target]
        if not late:
            return
        time.sleep(0.3)
    raise FloeError(f"{', '.join(late)} not {target} after {timeout:.0f}s",
                    hint="`floe platform status`; `floe platform logs <service>`")


def logs(service: str, lines: int = 100) -> str:
    home = Home.current()
    path = home.logs / f"{service}.log"
    if not path.exists():
        known = sorted(p.stem for p in home.logs.glob("*.log"))
        raise FloeError(f"no log for service {service!r}", hint=f"known: {', '.join(known) or 'none yet'}")
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def bootstrap(manifest_path: Path) -> list[Any]:
    from floe.platform.bootstrap import run_bootstrap

    home = Home.current()
    if supervisor_pid(home) is None:
        raise FloeError("the platform is not running", hint="`floe platform up` first")
    from dataclasses import replace

    from floe.compiler.stages import default_output_dir
    from floe.platform.services import local_platform

    manifest = load_manifest(manifest_path)
    dirs = [default_output_dir(p / "floe.yaml", manifest) for p in discover_products(manifest_path, manifest)]
    platform = local_platform(manifest, home, {}, dirs)
    return run_bootstrap(replace(platform, secrets=ensure_secrets(home, products=platform.principals)))


def rollback(revision: int | None = None,
             on_change: Callable[[str, str, str], None] | None = None) -> tuple[Revision, list[Any]]:
    home = Home.current()
    store = ReleaseStore(home)
    target = next((r for r in store.load() if r.revision == revision), None) if revision else store.last_deployed()
    if target is None:
        raise FloeError("no deployed revision to roll back to" if revision is None
                        else f"revision {revision} does not exist",
                        hint="`floe platform status` lists the history")
    return up(Path(target.manifest), operation="rollback", on_change=on_change)


def recover(on_change: Callable[[str, str, str], None] | None = None) -> tuple[Revision | None, Any]:
    """Fail a stuck pending revision and roll back to the last deployed one."""
    store = ReleaseStore(Home.current())
    failed = store.fail_stuck()
    if failed is None:
        current = store.current()
        if current is None or current.status != "failed":
            return None, None
    if store.last_deployed() is None:
        raise FloeError("nothing to roll back to: no revision was ever deployed",
                        hint="`floe platform up` to install")
    return failed, rollback(on_change=on_change)
