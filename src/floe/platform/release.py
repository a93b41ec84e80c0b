"""Releases with Helm's semantics for the local platform.

Every `up`, `upgrade`, `rollback` and `recover` creates a revision that goes pending-install /
pending-upgrade / pending-rollback -> deployed or failed. A second operation while one is pending is
refused; a pending revision whose owner process is gone (or past its deadline) is *stuck*: `status`
reports it and `recover` fails it and rolls back to the last deployed revision.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from floe.errors import FloeError
from floe.home import Home

RELEASE_FILE = "releases.json"
PENDING = {"pending-install", "pending-upgrade", "pending-rollback"}


@dataclass
class Revision:
    revision: int
    status: str
    operation: str
    manifest: str
    manifest_sha: str
    owner_pid: int
    started_at: float
    deadline: float
    updated_at: float
    description: str = ""

    def stuck(self, now: float | None = None) -> str | None:
        """Why this pending revision can never finish by itself, or None."""
        if self.status not in PENDING:
            return None
        if not _alive(self.owner_pid):
            return f"its owner process {self.owner_pid} is gone"
        if (now or time.time()) > self.deadline:
            return f"it passed its deadline ({time.ctime(self.deadline)})"
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReleaseStore:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.path = home.root / RELEASE_FILE

    @contextmanager
    def _locked(self) -> Iterator[list[Revision]]:
        self.home.ensure()
        with (self.home.run / "releases.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            revisions = self.load()
            yield revisions
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([asdict(r) for r in revisions], indent=2) + "\n")
            tmp.replace(self.path)

    def load(self) -> list[Revision]:
        if not self.path.exists():
            return []
        return [Revision(**r) for r in json.loads(self.path.read_text())]

    def current(self) -> Revision | None:
        revisions = self.load()
        return revisions[-1] if revisions else None

    def last_deployed(self) -> Revision | None:
        for r in reversed(self.load()):
            if r.status in {"deployed", "superseded"}:
                return r
        return None

    def begin(self, operation: str, manifest: Path, *, timeout: float, description: str = "") -> Revision:
        with self._locked() as revisions:
            if revisions and revisions[-1].status in PENDING:
                latest = revisions[-1]
                reason = latest.stuck()
                if reason:
                    raise FloeError(
                        f"release is stuck in {latest.status} (revision {latest.revision}): {reason}",
                        hint="run `floe platform recover` to roll back to the last deployed revision")
                raise FloeError(
                    f"another operation ({latest.operation}, revision {latest.revision}, pid {latest.owner_pid}) "
                    "is in progress",
                    hint="wait for it to finish; if it is stuck, `floe platform recover` rolls back")
            ever_deployed = any(r.status in {"deployed", "superseded"} for r in revisions)
            status = {"rollback": "pending-rollback"}.get(operation) or (
                "pending-upgrade" if ever_deployed else "pending-install")
            now = time.time()
            rev = Revision(
                revision=(revisions[-1].revision + 1) if revisions else 1, status=status, operation=operation,
                manifest=str(manifest.resolve()), manifest_sha=_sha(manifest), owner_pid=os.getpid(),
                started_at=now, deadline=now + timeout, updated_at=now, description=description,
            )
            revisions.append(rev)
            return rev

    def finish(self, revision: int, ok: bool, description: str) -> Revision:
        with self._locked() as revisions:
            target = next(r for r in revisions if r.revision == revision)
            if ok:
                for r in revisions:
                    if r.status == "deployed":
                        r.status = "superseded"
            target.status = "deployed" if ok else "failed"
            target.description = description
            target.updated_at = time.time()
            return target

    def fail_stuck(self) -> Revision | None:
        """Mark a stuck pending revision failed; returns it (None when nothing is stuck)."""
        with self._locked() as revisions:
            if not revisions or revisions[-1].status not in PENDING:
                return None
            latest = revisions[-1]
            reason = latest.stuck()
            if reason is None:
                raise FloeError(
                    f"revision {latest.revision} ({latest.status}) is still in progress (pid {latest.owner_pid})",
                    hint="it is not stuck; wait for it to finish")
            latest.status = "failed"
            latest.description = f"recovered: {reason}"
            latest.updated_at = time.time()
            return latest

    def as_json(self) -> list[dict[str, Any]]:
        out = []
        for r in self.load():
            d = asdict(r)
            d["stuck"] = r.stuck()
            out.append(d)
        return out


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
