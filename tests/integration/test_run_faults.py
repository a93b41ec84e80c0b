"""Embedded runs stopped, failed or raced (FLOE-RUN-ATOMIC, FLOE-RUN-LOCK): a run interrupted (exit 130,
saying so, not as a model failure) or killed while dbt builds, after dbt, or while it publishes leaves
every published table as it was or all of them new; a reader never sees two runs mixed; a failed run's
local tables never reach a later publish; schema changes and a copied product folder publish nothing
until asked to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import copy_demo

from floe.app import run_product
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog

pytestmark = [pytest.mark.integration, pytest.mark.requirement("FLOE-RUN-LOCK")]


def _snapshots(ctx: RunContext) -> dict[str, int]:
    catalog = load_catalog(ctx)
    return {".".join(t): catalog.load_table(t).current_snapshot().snapshot_id
            for ns in ("iot_telemetry", "iot_telemetry_raw") for t in catalog.list_tables(ns)}


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def _unreferenced(ctx: RunContext, since: float) -> list[str]:
    """Files under the product's table folders written since ``since`` that no metadata refers to."""
    catalog = load_catalog(ctx)
    stray = []
    for ns in ("iot_telemetry", "iot_telemetry_raw"):
        for ident in catalog.list_tables(ns):
            table = catalog.load_table(ident)
            meta = table.metadata
            known = {table.metadata_location, *(m.metadata_file for m in meta.metadata_log),
                     *(s.manifest_list for s in meta.snapshots)}
            manifests = table.inspect.all_manifests()
            if manifests.num_rows:
                known |= set(manifests["path"].to_pylist())
            files = table.inspect.all_files()
            if files.num_rows:
                known |= set(files["file_path"].to_pylist())
            root = Path(table.location().removeprefix("file://"))
            stray += [str(f) for f in root.rglob("*") if f.is_file() and f.stat().st_mtime >= since
                      and f.as_uri() not in known and f"file://{f}" not in known]
    return stray


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunContext]:
    """A copy of demo/ whose iot-telemetry has published once on the embedded manifest."""
    demo = copy_demo(tmp_path_factory.mktemp("interrupt"))
    first = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert first.success and first.artifacts_path is not None
    return demo, RunContext.load(first.artifacts_path)


def _floe_run(demo: Path) -> subprocess.Popen[str]:
    floe = Path(sys.executable).parent / "floe"
    return subprocess.Popen([str(floe), "run", "iot-telemetry", "--manifest", "manifest.embedded.yaml"], cwd=demo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


_POINTS = {
    # this run's log shows dbt building (a seed or model done)
    "dbt": lambda log, warehouse, started: " OK created " in log,
    # dbt has ended (its tests with it); the volume guard and the quality checks come before the publish
    "audit": lambda log, warehouse, started: "Finished running " in log,
    # a data file newer than this run's start: the publish is staging tables
    "publish": lambda log, warehouse, started: any(f.stat().st_mtime > started for f in warehouse.rglob("*.parquet")),
}


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
@pytest.mark.parametrize(("sig", "point"),
                         [(sig, point) for sig in (signal.SIGINT, signal.SIGKILL) for point in _POINTS],
                         ids=lambda v: v.name if isinstance(v, signal.Signals) else v)
def test_a_run_stopped_anywhere_leaves_every_table_as_it_was_or_all_new(
        published: tuple[Path, RunContext], sig: signal.Signals, point: str) -> None:
    """The run is interrupted (SIGINT: Ctrl-C) or killed (SIGKILL: no handler runs) while dbt builds,
    once dbt has ended (the audit) or once its publish has begun writing data files: every table is then
    as before the run or, all of them, as after it (during dbt: as before). An interrupt says which of
    the two it is (exit 130; a publish, once begun, is never cut short). The next run succeeds (the lock
    went with the process), and nothing the stopped run staged is left in the warehouse."""
    demo, ctx = published
    before = _snapshots(ctx)
    warehouse = Path(ctx.warehouse_root.removeprefix("file://"))
    latest = ctx.out_dir / "logs" / "run.log"
    previous = latest.resolve()
    started = time.time()
    reached = _POINTS[point]

    proc = _floe_run(demo)
    try:
        _wait_for(lambda: latest.resolve() != previous and reached(latest.read_text(), warehouse, started),
                  f"the run reached {point}", timeout=300)
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    after_stop = _snapshots(ctx)
    changed = {t for t in before if after_stop.get(t) != before[t]}
    assert set(after_stop) == set(before) and changed in (set(), set(before)), sorted(changed)
    if point == "dbt":
        assert not changed
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    elif not changed:
        assert proc.returncode == 130, err
        assert "interrupted before it published" in err and "fix the model" not in err, err
    else:  # the interrupt came while it published: the publish went through, then the run ended
        assert proc.returncode == 0 or (proc.returncode == 130 and "interrupted after it published" in err), err

    again = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert again.success and again.marts and all(n > 0 for n in again.marts.values()), again
    after = _snapshots(ctx)
    assert all(after[t] != after_stop[t] for t in before)
    assert not _unreferenced(ctx, since=started)  # what the stopped run staged went with the rerun


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
def test_a_reader_polling_during_a_publish_never_sees_two_runs_mixed(published: tuple[Path, RunContext]) -> None:
    """A consumer reads every table of the product, one after the other, again and again while a run
    publishes. The run's commit moves all of them at once, so within one pass a table read after one that
    is already new is new too; every snapshot it sees is the previous run's or this run's, and all of
    this run's snapshots name it (``floe.run`` in their summaries)."""
    import threading

    demo, ctx = published
    before = _snapshots(ctx)
    order = sorted(before)
    passes: list[list[int]] = []
    stop = threading.Event()
    reader = load_catalog(ctx)

    def poll() -> None:
        while not stop.is_set():
            passes.append([reader.load_table(t).current_snapshot().snapshot_id for t in order])

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        result = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert result.success
    after = _snapshots(ctx)
    old, new = [before[t] for t in order], [after[t] for t in order]
    assert all(o != n for o, n in zip(old, new, strict=True))
    assert passes and passes[0] == old and passes[-1] == new, "the reader saw neither side of the publish"
    for seen in passes:
        state = ["old" if s == o else "new" if s == n else f"other {s}" for s, o, n in zip(seen, old, new, strict=True)]
        first_new = state.index("new") if "new" in state else len(state)
        assert state[:first_new] == ["old"] * first_new and state[first_new:] == ["new"] * (len(state) - first_new), \
            dict(zip(order, state, strict=True))
    runs = {reader.load_table(t).current_snapshot().summary["floe.run"] for t in order}
    assert len(runs) == 1 and runs != {None}, runs


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
def test_what_a_failed_run_built_never_reaches_a_later_publish(published: tuple[Path, RunContext]) -> None:
    """A run loads a batch of readings its incremental stg_readings takes in, then fails at the mart. The
    batch is withdrawn and the mart fixed: the next run starts from the published tables, not from the
    failed run's local ones, so none of the withdrawn readings is ever published."""
    from floe.errors import RuntimeFailure

    demo, ctx = published
    seed = demo / "iot-telemetry" / "seeds" / "raw_readings.csv"
    mart = demo / "iot-telemetry" / "models" / "marts" / "mart_equipment_health.sql"
    seed_text, mart_text = seed.read_text(), mart.read_text()
    readings = load_catalog(ctx).load_table("iot_telemetry.stg_readings")
    published_ids = set(readings.scan(selected_fields=("reading_id",)).to_arrow()["reading_id"].to_pylist())
    withdrawn = range(90001, 90011)
    seed.write_text(seed_text + "".join(f"{i},SEN-000001,2025-03-02 00:00:00,42.0,2025-03-02 00:05:00\n"
                                        for i in withdrawn))
    mart.write_text(mart_text.replace("{{ ref('int_sensor_metrics') }}",
                                      "{{ ref('int_sensor_metrics') }} where cast('no number' as integer) = 1", 1))
    before = _snapshots(ctx)
    try:
        with pytest.raises(RuntimeFailure, match="mart_equipment_health"):
            run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    finally:
        seed.write_text(seed_text)
        mart.write_text(mart_text)
    assert _snapshots(ctx) == before

    again = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert again.success
    ids = set(readings.refresh().scan(selected_fields=("reading_id",)).to_arrow()["reading_id"].to_pylist())
    assert ids == published_ids and not ids & set(withdrawn)
    log = (ctx.out_dir / "logs" / "run.log").read_text()
    assert "ended before it published; restored" in log, log[-2000:]


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_a_type_change_publishes_nothing_until_a_full_refresh_of_its_model(published: tuple[Path, RunContext]) -> None:
    """stg_maintenance.duration_hours goes double -> varchar: governance blocks it (type_changes: block),
    the run names the column, both types and the command; that command publishes it as a new snapshot
    whose older snapshots still read doubles."""
    import pyarrow as pa

    from floe.errors import RuntimeFailure
    from floe.plugins.interfaces import RunOptions

    demo, ctx = published
    model = demo / "iot-telemetry" / "models" / "staging" / "stg_maintenance.sql"
    model.write_text(model.read_text().replace("cast(duration_hours as double)", "cast(duration_hours as varchar)"))
    before = _snapshots(ctx)
    with pytest.raises(RuntimeFailure) as err:
        run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    text = str(err.value)
    assert "iot_telemetry.stg_maintenance.duration_hours: double -> string" in text, text
    assert "floe run iot-telemetry --full-refresh stg_maintenance" in text and "Traceback" not in text, text
    assert _snapshots(ctx) == before

    fixed = run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml",
                        options=RunOptions(full_refresh=("stg_maintenance",)))
    assert fixed.success
    after = _snapshots(ctx)
    assert all(after[t] != before[t] for t in before)
    table = load_catalog(ctx).load_table("iot_telemetry.stg_maintenance")
    assert str(table.schema().find_field("duration_hours").field_type) == "string"
    old = table.scan(snapshot_id=before["iot_telemetry.stg_maintenance"]).to_arrow()
    assert old.num_rows > 0 and old.schema.field("duration_hours").type == pa.float64()


@pytest.mark.requirement("FLOE-RUN-ATOMIC")
def test_a_copied_product_folder_writes_nothing_into_the_originals_tables(published: tuple[Path, RunContext]) -> None:
    """A copy of the product's folder (same metadata.name) fails before dbt, naming both folders, and
    leaves every table as it was; `--take-over` moves the product to the copy, and then the original
    folder is the one refused."""
    import shutil

    from floe.errors import RuntimeFailure
    from floe.plugins.interfaces import RunOptions

    demo, ctx = published
    copy = demo / "iot-telemetry-copy"
    shutil.copytree(demo / "iot-telemetry", copy, ignore=shutil.ignore_patterns("target", "logs"))
    before = _snapshots(ctx)
    with pytest.raises(RuntimeFailure) as err:
        run_product(copy, manifest_path=demo / "manifest.embedded.yaml")
    text = str(err.value)
    assert "published by the product folder iot-telemetry, not by this one (iot-telemetry-copy)" in text, text
    assert "floe run iot-telemetry-copy --take-over" in text and "Traceback" not in text, text
    assert _snapshots(ctx) == before

    moved = run_product(copy, manifest_path=demo / "manifest.embedded.yaml", options=RunOptions(take_over=True))
    assert moved.success
    assert all(_snapshots(ctx)[t] != before[t] for t in before)
    with pytest.raises(RuntimeFailure) as err:
        run_product(demo / "iot-telemetry", manifest_path=demo / "manifest.embedded.yaml")
    assert "published by the product folder iot-telemetry-copy, not by this one (iot-telemetry)" in str(err.value)
