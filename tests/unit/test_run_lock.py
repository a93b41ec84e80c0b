"""One embedded run per product and target: a second fails at once naming the first; each run has its
own log, and run.log is the latest's (FLOE-RUN-LOCK)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from floe.errors import RuntimeFailure
from floe.runtime.lock import KEEP_LOGS, product_run

pytestmark = pytest.mark.requirement("FLOE-RUN-LOCK")

HOLD = """
import sys, time
from pathlib import Path
from floe.runtime.lock import product_run
with product_run(Path(sys.argv[1]), "customer-360") as log:
    print(log, flush=True)
    sys.stdin.read()  # until the test closes stdin
"""


def test_a_second_run_fails_at_once_naming_the_first(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        first_log = holder.stdout.readline().strip()
        started = time.monotonic()
        with pytest.raises(RuntimeFailure) as err, product_run(tmp_path, "customer-360"):
            pass
        assert time.monotonic() - started < 1
        assert f"pid {holder.pid}" in str(err.value) and first_log in str(err.value)
        assert "already running on this target" in str(err.value) and "wait for that run" in str(err.value.hint)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    # the holder ended (as a killed run would): the lock is free again
    with product_run(tmp_path, "customer-360") as log:
        assert str(log) != first_log


def test_each_run_has_its_own_log_and_run_log_is_the_latest(tmp_path: Path) -> None:
    logs = []
    for i in range(KEEP_LOGS + 2):
        with product_run(tmp_path, "p") as log:
            log.write_text(f"run {i}\n")
            logs.append(log)
    assert (tmp_path / "logs" / "run.log").read_text() == f"run {KEEP_LOGS + 1}\n"
    kept = sorted((tmp_path / "logs" / "runs").glob("*.log"))
    assert len(kept) == KEEP_LOGS and logs[-1] in kept
