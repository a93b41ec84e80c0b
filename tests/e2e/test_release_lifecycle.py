"""Release lifecycle with Helm's semantics (seed 15-FR-003): refusal, stuck detection, recovery."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from tests.e2e.conftest import floe, platform_status

from floe.platform.home import Home
from floe.platform.release import ReleaseStore

pytestmark = [pytest.mark.e2e, pytest.mark.restarts_platform]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.requirement("15-FR-003")
def test_stuck_release_detected_and_recovered(platform: dict[str, Any], manifest_path: Any) -> None:
    store = ReleaseStore(Home.current())
    deployed_before = platform_status()["release"]["revision"]
    # an upgrade is in progress (owned by this live process): a second operation is refused
    rev = store.begin("upgrade", manifest_path, timeout=600, description="simulated")
    refused = floe("platform", "upgrade", check=False)
    assert refused.returncode != 0
    assert "in progress" in refused.stderr and "recover" in refused.stderr
    assert "Traceback" not in refused.stderr
    # its owner dies: the release is stuck in pending-upgrade, and status says so
    releases = store.path.read_text().replace(f'"owner_pid": {rev.owner_pid}', f'"owner_pid": {_dead_pid()}')
    store.path.write_text(releases)
    st = platform_status()
    assert st["release"]["status"] == "pending-upgrade"
    assert "gone" in st["release"]["stuck"]
    human = floe("platform", "status").stdout
    assert "stuck" in human and "floe platform recover" in human
    # recover: the stuck revision fails, a rollback revision re-deploys the last deployed manifest
    floe("platform", "recover")
    st = platform_status()
    assert st["healthy"]
    history = {h["revision"]: h for h in st["history"]}
    assert history[rev.revision]["status"] == "failed"
    assert st["release"]["status"] == "deployed" and st["release"]["revision"] > rev.revision
    assert history[st["release"]["revision"]]["operation"] == "rollback"
    assert deployed_before in history
