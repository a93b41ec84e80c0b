"""Release store: Helm-like states, refusal while pending, stuck detection and recovery marking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from floe.errors import FloeError
from floe.home import Home
from floe.platform.release import ReleaseStore


@pytest.fixture
def store(tmp_path: Path) -> ReleaseStore:
    return ReleaseStore(Home(tmp_path / "home"))


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text("kind: Manifest\n")
    return path


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_first_install_then_upgrade(store: ReleaseStore, manifest: Path) -> None:
    r1 = store.begin("install", manifest, timeout=60)
    assert r1.status == "pending-install" and r1.revision == 1
    store.finish(1, True, "ok")
    r2 = store.begin("upgrade", manifest, timeout=60)
    assert r2.status == "pending-upgrade"
    store.finish(2, True, "ok")
    statuses = [r.status for r in store.load()]
    assert statuses == ["superseded", "deployed"]
    assert store.last_deployed().revision == 2  # type: ignore[union-attr]


def test_failed_upgrade_keeps_last_deployed(store: ReleaseStore, manifest: Path) -> None:
    store.begin("install", manifest, timeout=60)
    store.finish(1, True, "ok")
    store.begin("upgrade", manifest, timeout=60)
    store.finish(2, False, "boom")
    assert [r.status for r in store.load()] == ["deployed", "failed"]
    assert store.last_deployed().revision == 1  # type: ignore[union-attr]


def test_second_operation_refused_while_pending(store: ReleaseStore, manifest: Path) -> None:
    store.begin("install", manifest, timeout=60)
    with pytest.raises(FloeError) as err:
        store.begin("upgrade", manifest, timeout=60)
    assert "in progress" in str(err.value) and "recover" in str(err.value)


def test_pending_with_dead_owner_is_stuck(store: ReleaseStore, manifest: Path) -> None:
    store.begin("install", manifest, timeout=60)
    store.finish(1, True, "ok")
    store.begin("upgrade", manifest, timeout=60)
    store.path.write_text(store.path.read_text().replace(f'"owner_pid": {__import__("os").getpid()}',
                                                          f'"owner_pid": {_dead_pid()}'))
    current = store.current()
    assert current is not None and current.status == "pending-upgrade"
    assert "gone" in (current.stuck() or "")
    with pytest.raises(FloeError, match="stuck in pending-upgrade"):
        store.begin("upgrade", manifest, timeout=60)
    failed = store.fail_stuck()
    assert failed is not None and failed.status == "failed" and "recovered" in failed.description
    assert store.last_deployed().revision == 1  # type: ignore[union-attr]


def test_pending_past_deadline_is_stuck(store: ReleaseStore, manifest: Path) -> None:
    store.begin("install", manifest, timeout=-1)
    current = store.current()
    assert current is not None and "deadline" in (current.stuck() or "")


def test_live_pending_is_not_recoverable(store: ReleaseStore, manifest: Path) -> None:
    store.begin("install", manifest, timeout=60)
    with pytest.raises(FloeError, match="not stuck"):
        store.fail_stuck()


def test_fingerprint_changes_with_what_services_are_made_from(tmp_path: Path, manifest: Path) -> None:
    """Upgrade/rollback restart services only when the manifest, a product's compiled output or the
    generated secrets changed (Helm's rule: identical templates roll no pod)."""
    from floe.platform.controller import fingerprint

    home = Home(tmp_path / "home")
    home.ensure()
    product = tmp_path / "out"
    product.mkdir()
    for name in ("compiled_artifacts.json", "profiles.yml", "definitions.py"):
        (product / name).write_text(name)
    first = fingerprint(home, manifest, [product])
    assert fingerprint(home, manifest, [product]) == first
    (product / "compiled_artifacts.json").write_text("changed")
    second = fingerprint(home, manifest, [product])
    assert second != first
    home.secrets_file.write_text("FLOE_PRODUCT_X_CLIENT_ID=new\n")
    third = fingerprint(home, manifest, [product])
    assert third != second
    manifest.write_text("kind: Manifest\n# changed\n")
    assert fingerprint(home, manifest, [product]) != third
