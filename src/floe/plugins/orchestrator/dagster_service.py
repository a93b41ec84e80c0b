"""The local platform's Dagster: a webserver and a daemon over PostgreSQL storage, one code location per
deployed product (its generated ``definitions.py``), run for the ``dagster`` orchestrator plugin."""

from __future__ import annotations

from pathlib import Path

from floe.plugins.local import LOCALHOST, POSTGRES_PORT, LocalPlatform, Probe, ServiceSpec, venv_bin

DATABASE = "dagster"


PRODUCT_TAG = "floe/product"
"""Every run of a product's job carries this tag (its slug)."""
PRODUCT_RUN_LIMITS = [{"key": PRODUCT_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
"""One run per product at a time: a second run of the same product waits in Dagster's queue."""


def services(platform: LocalPlatform, port: int, max_concurrent_runs: int) -> list[ServiceSpec]:
    dhome = platform.data / "dagster"
    workspace = platform.config / "dagster-workspace.yaml"
    products = [p.artifacts_dir for p in platform.products]

    def prepare() -> None:
        import yaml

        dhome.mkdir(parents=True, exist_ok=True)
        storage = {"postgres": {"postgres_db": {
            "hostname": LOCALHOST, "port": POSTGRES_PORT, "username": "floe", "db_name": DATABASE,
            "password": {"env": "FLOE_PG_PASSWORD"},
        }}}
        (dhome / "dagster.yaml").write_text(yaml.safe_dump({
            "storage": storage,
            "telemetry": {"enabled": False},
            # code servers load dagster-dbt and the dbt manifest; on a busy 2-core machine that can
            # take longer than Dagster's default start-up timeout
            "code_servers": {"local_startup_timeout": 300},
            "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator",
                                # the daemon looks at the queue every second (Dagster's default: 5)
                                "config": {"max_concurrent_runs": max_concurrent_runs,
                                           "dequeue_interval_seconds": 1,
                                           "tag_concurrency_limits": PRODUCT_RUN_LIMITS}},
        }, sort_keys=False))
        write_workspace(workspace, products)

    env = {"DAGSTER_HOME": str(dhome), "FLOE_PG_PASSWORD": platform.secrets["FLOE_PG_PASSWORD"],
           "DAGSTER_GRPC_TIMEOUT_SECONDS": "300"}
    web = ServiceSpec(
        name="dagster-webserver",
        command=[venv_bin("dagster-webserver"), "-h", LOCALHOST, "-p", str(port), "-w", str(workspace)],
        probe=Probe("http", url=f"http://{LOCALHOST}:{port}/server_info"), port=port,
        depends_on=["postgres"], env=env, prepare=prepare, start_timeout=180,
    )
    daemon = ServiceSpec(
        name="dagster-daemon",
        command=[venv_bin("dagster-daemon"), "run", "-w", str(workspace)],
        probe=Probe("custom", fn=lambda timeout: daemon_heartbeat(platform, timeout)), port=0,
        depends_on=["postgres"], env=env, prepare=prepare, start_timeout=240,
    )
    return [web, daemon]


def daemon_heartbeat(platform: LocalPlatform, timeout: float) -> tuple[bool, str]:
    """The daemon is healthy when its scheduler and run-queue loops wrote a heartbeat in the last minute."""
    import psycopg

    with psycopg.connect(platform.pg_dsn(DATABASE), connect_timeout=max(1, int(timeout))) as conn:
        try:
            rows = conn.execute(
                "select daemon_type, timestamp from daemon_heartbeats "
                "where timestamp > (now() at time zone 'utc') - interval '60 seconds'").fetchall()
        except psycopg.errors.UndefinedTable:
            return False, "no heartbeat table yet"
    types = sorted({r[0] for r in rows})
    required = {"SCHEDULER", "QUEUED_RUN_COORDINATOR"}
    if required <= set(types):
        return True, f"heartbeats: {', '.join(types)}"
    return False, f"waiting for heartbeats of {', '.join(sorted(required - set(types)))}"


def write_workspace(path: Path, products: list[Path]) -> None:
    """One code location per compiled product, each loading its definitions from artifacts."""
    import yaml

    entries = [{"python_file": {"relative_path": str(d / "definitions.py"), "working_directory": str(d),
                                "location_name": d.parent.parent.parent.name}} for d in products]
    path.write_text(yaml.safe_dump({"load_from": entries}, sort_keys=False))
