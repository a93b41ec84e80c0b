"""The CLI: fast start-up, clean errors (no traceback unless --debug), useful exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.conftest import DEMO, ROOT

FLOE = [sys.executable, "-m", "floe.cli.main"]


def _floe(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLOE, *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_version() -> None:
    r = _floe("--version")
    assert r.returncode == 0 and r.stdout.startswith("floe ")


def test_cli_path_imports_no_heavy_libraries() -> None:
    code = (
        # the identity plugins load PyJWT only when they check a token
        "import sys, floe, floe.cli.main, floe.plugins.identity.oidc, floe.plugins.identity.static_token\n"
        # compile-then-run and the contract: imported by every `floe run`, before anything runs
        "import floe.app, floe.compiler, floe.contract\n"
        "heavy = [m for m in ('duckdb','pyarrow','dagster','dbt','pyiceberg','dagster_dbt','jwt')\n"
        "         if m in sys.modules]\n"
        "print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_compile_writes_outputs(tmp_path: Path) -> None:
    r = _floe("compile", str(DEMO / "customer-360"), "--output", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "compiled customer-360" in r.stdout
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"compiled_artifacts.json", "profiles.yml",
                                                               "definitions.py"}


def test_bad_manifest_is_a_clean_error(demo_copy: Path) -> None:
    manifest = demo_copy / "manifest.yaml"
    data = yaml.safe_load(manifest.read_text())
    data["plugins"]["compute"]["type"] = "oracle"
    manifest.write_text(yaml.safe_dump(data))
    r = _floe("compile", str(demo_copy / "customer-360"))
    assert r.returncode == 5
    assert "Traceback" not in r.stderr
    assert "plugins.compute.type" in r.stderr and "'oracle'" in r.stderr and "duckdb" in r.stderr
    assert not (demo_copy / "customer-360" / "target").exists()
    debug = _floe("--debug", "compile", str(demo_copy / "customer-360"))
    assert "Traceback" in debug.stderr


def test_missing_product_is_a_clean_error(tmp_path: Path) -> None:
    r = _floe("compile", str(tmp_path / "nope"))
    assert r.returncode == 5 and "file not found" in r.stderr and "Traceback" not in r.stderr


def test_schema_command() -> None:
    r = _floe("schema", "floe")
    assert r.returncode == 0 and '"FloeSpec"' in r.stdout


def test_plugins_list_shows_all_types() -> None:
    r = _floe("plugins", "list")
    assert r.returncode == 0
    for t in ("compute", "alert_channel", "identity", "semantic_layer"):
        assert t in r.stdout


def test_validate() -> None:
    r = _floe("validate", str(DEMO / "financial-risk"))
    assert r.returncode == 0 and "6 models checked" in r.stdout


def test_unreachable_telemetry_never_breaks_compile(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    r = subprocess.run([*FLOE, "compile", str(DEMO / "customer-360"), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("telemetry unavailable") == 1


def test_a_step_error_reads_as_dbt_said_it_without_traceback() -> None:
    """A platform run that failed before dbt wrote results (the catalog unreachable) is reported with
    dbt's own error: the endpoint it could not reach, no dagster-dbt boilerplate, no Python traceback."""
    from floe.plugins.orchestrator.dagster_client import readable_step_error

    message = ("iot_telemetry_dbt: dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n"
               "`dbt build`\n\nfailed with exit code `2`.\n\nErrors parsed from dbt logs:\n\nEncountered an error:\n"
               "Could not get token from http://127.0.0.1:8181/v1/oauth/tokens: Could not connect to server\n\n"
               "Traceback (most recent call last):\n  File \"connections.py\", line 110\n")
    assert readable_step_error(message) == ("iot_telemetry_dbt: Encountered an error:\nCould not get token from "
                                            "http://127.0.0.1:8181/v1/oauth/tokens: Could not connect to server")
    assert readable_step_error("step: plain failure") == "step: plain failure"


def test_dagster_client_asks_again_once_when_the_webservers_db_connection_died(monkeypatch: pytest.MonkeyPatch) -> None:
    """After PostgreSQL restarts, Dagster's webserver answers its first query 500 ("server closed the
    connection unexpectedly") before running anything; floe asks once more. Other 500s are errors."""
    import httpx

    from floe.errors import ServiceUnavailableError
    from floe.plugins.orchestrator.dagster_client import DagsterClient

    dead = httpx.Response(500, text='{"errors": [{"message": "server closed the connection unexpectedly"}]}')
    answers = [dead, httpx.Response(200, json={"data": {"ok": True}}), httpx.Response(500, text="boom")]
    monkeypatch.setattr(httpx, "post", lambda *a, **k: answers.pop(0))
    monkeypatch.setattr("floe.plugins.orchestrator.dagster_client.time.sleep", lambda s: None)
    assert DagsterClient("http://127.0.0.1:3000").query("{ ok }") == {"ok": True}
    with pytest.raises(ServiceUnavailableError):
        DagsterClient("http://127.0.0.1:3000").query("{ ok }")
