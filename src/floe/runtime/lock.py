"""One embedded run per product and target at a time, each with its own log.

A second run of the same product on the same target (its compiled folder) fails at once, naming the
run that holds the lock, instead of failing later on DuckDB's file lock with advice to fix a model.
The lock is an ``flock`` on ``run.lock`` in the compiled folder: the kernel releases it when its run
ends, however it ends (a killed run leaves no stale lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from floe.errors import RuntimeFailure

KEEP_LOGS = 20
"""Run logs kept per product and target (the oldest go first)."""


@contextlib.contextmanager
def product_run(out_dir: Path, product: str) -> Iterator[Path]:
    """Hold the product's run lock for the block; yields this run's log file (``logs/run.log`` points
    at it: the latest run's).

    Raises:
        RuntimeFailure: another run of the product holds the lock (what it wrote about itself).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir / "run.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise RuntimeFailure(f"{product} is already running on this target: {holder}",
                                 hint="wait for that run to end (or stop it), then run again: a product runs "
                                      "once at a time per target") from None
        logs = out_dir / "logs" / "runs"
        logs.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        log = logs / f"{stamp}-{os.getpid()}.log"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {stamp}, log {log}\n".encode(), 0)
        log.touch()
        _point_latest(out_dir / "logs" / "run.log", log)
        for old in sorted(logs.glob("*.log"))[:-KEEP_LOGS]:
            old.unlink(missing_ok=True)
        yield log
    finally:
        os.close(fd)  # releases the lock


def _point_latest(link: Path, target: Path) -> None:
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(link.parent))
    os.replace(tmp, link)  # a plain file left by an older floe is replaced too
