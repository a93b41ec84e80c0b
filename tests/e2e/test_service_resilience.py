"""A killed service comes back by itself, and its data survives (supervisor restart with backoff)."""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

import pytest
from tests.e2e.conftest import platform_status, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.restarts_platform]


def _service(name: str) -> dict[str, Any]:
    return next(s for s in platform_status()["services"] if s["service"] == name)


def _kill_and_wait(name: str) -> None:
    before = _service(name)
    os.kill(before["pid"], signal.SIGKILL)

    def back() -> bool:
        s = _service(name)
        return s["state"] == "healthy" and s["pid"] != before["pid"] and s["restarts"] > before["restarts"]

    wait_for(back, timeout=120, what=f"{name} restarted by the supervisor")


@pytest.mark.requirement("FLOE-PLAT-RESTART")
def test_s3_object_survives_kill_of_seaweedfs(platform: dict[str, Any], secrets: dict[str, str],
                                             manifest_path: Any) -> None:
    from floe.platform.controller import load_manifest
    from floe.plugins.storage.seaweedfs import s3_client

    s3 = s3_client(load_manifest(manifest_path).plugins.storage, secrets)
    key, body = f"e2e/{uuid.uuid4().hex}.txt", b"survives a kill -9"
    s3.put_object(Bucket="floe-iceberg", Key=key, Body=body)
    _kill_and_wait("seaweedfs")
    got = wait_for(lambda: s3.get_object(Bucket="floe-iceberg", Key=key)["Body"].read(), timeout=60,
                   what="the object readable again")
    assert got == body


@pytest.mark.requirement("FLOE-PLAT-RESTART")
def test_postgres_rows_survive_kill(platform: dict[str, Any], secrets: dict[str, str]) -> None:
    import psycopg

    from floe.platform.services import pg_dsn

    marker = uuid.uuid4().hex
    with psycopg.connect(pg_dsn(secrets, "postgres"), autocommit=True) as conn:
        conn.execute("create table if not exists floe_e2e_marker (id text primary key)")
        conn.execute("insert into floe_e2e_marker values (%s)", (marker,))
    _kill_and_wait("postgres")

    def row() -> bool:
        with psycopg.connect(pg_dsn(secrets, "postgres"), connect_timeout=3) as conn:
            return conn.execute("select 1 from floe_e2e_marker where id = %s", (marker,)).fetchone() is not None

    assert wait_for(row, timeout=60, what="the row after PostgreSQL restarted")


@pytest.mark.requirement("FLOE-PLAT-RESTART")
def test_dagster_daemon_comes_back_with_run_history(platform_runs: dict[str, Any]) -> None:
    """A killed daemon (scheduler, sensors, run queue) is restarted; its heartbeats are back (that is its
    health probe) and the runs of this session are still in Dagster's PostgreSQL storage."""
    from tests.e2e.conftest import DAGSTER

    from floe.plugins.orchestrator.dagster_client import DagsterClient

    _kill_and_wait("dagster-daemon")
    client = DagsterClient(DAGSTER)  # floe's own client (PostgreSQL was killed by the test before this one)
    for result in platform_runs.values():
        run = client.query("query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }",
                           {"id": result.run_id})["runOrError"]
        assert run == {"__typename": "Run", "status": "SUCCESS"}, (result.product, run)
