"""The supervisor with real processes: dependency order, health deadline, restart with backoff, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from floe.home import Home
from floe.platform.services import Probe, ServiceSpec
from floe.platform.supervisor import Supervisor

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(name: str, port: int, deps: list[str] | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=name, command=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        probe=Probe("http", url=f"http://127.0.0.1:{port}/"), port=port, depends_on=deps or [],
        start_timeout=20, stop_timeout=5,
    )


def _state(home: Home) -> dict:
    path = home.run / "state.json"
    return json.loads(path.read_text()) if path.exists() else {"services": {}}


def _wait(pred, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = pred()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def running(tmp_path: Path):  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "home")
    home.ensure()
    a, b = _free_port(), _free_port()
    sup = Supervisor(home, [_http("a", a), _http("b", b, deps=["a"])])
    thread = threading.Thread(target=sup.loop, daemon=True)
    thread.start()
    yield home, sup
    sup.stopping = True
    thread.join(timeout=30)


def test_starts_in_order_and_restarts_a_killed_service(running) -> None:  # type: ignore[no-untyped-def]
    home, _sup = running
    _wait(lambda: all(s["state"] == "healthy" for s in _state(home)["services"].values())
          and len(_state(home)["services"]) == 2, 30, "both healthy")
    st = _state(home)["services"]
    assert st["a"]["started_at"] <= st["b"]["started_at"]
    old = st["b"]["pid"]
    os.kill(old, signal.SIGKILL)
    _wait(lambda: (s := _state(home)["services"]["b"])["state"] == "healthy" and s["pid"] != old
          and s["restarts"] == 1, 30, "b restarted")


def test_stop_leaves_no_process(running) -> None:  # type: ignore[no-untyped-def]
    home, sup = running
    _wait(lambda: all(s["state"] == "healthy" for s in _state(home)["services"].values())
          and len(_state(home)["services"]) == 2, 30, "both healthy")
    pids = [r.proc.pid for r in sup.services.values()]
    sup.stopping = True
    _wait(lambda: all(_gone(p) for p in pids), 30, "every process stopped")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie of ours still answers kill(0); reap it
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def test_service_that_never_gets_healthy_is_reported(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    spec = ServiceSpec(name="sleepy", command=[sys.executable, "-c", "import time; time.sleep(60)"],
                       probe=Probe("tcp", port=_free_port()), port=1, start_timeout=1, stop_timeout=2)
    sup = Supervisor(home, [spec])
    thread = threading.Thread(target=sup.loop, daemon=True)
    thread.start()
    try:
        st = _wait(lambda: (s := _state(home)["services"].get("sleepy")) and s["state"] == "unhealthy" and s,
                   20, "unhealthy")
        assert "not healthy after 1s" in st["message"]
    finally:
        sup.stopping = True
        thread.join(timeout=30)
    subprocess.run(["true"], check=True)
