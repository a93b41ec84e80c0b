"""Schedules Dagster would refuse at run time fail compile instead, naming the field (FLOE-COMPILE-RUNS)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from floe.compiler import compile_pipeline
from floe.errors import ConfigError
from floe.plugins.orchestrator.dagster import cron_problem

pytestmark = pytest.mark.requirement("FLOE-COMPILE-RUNS")

CRONS = ["*/10 * * * *", "0 6 * * 1-5", "0 0 1 jan,jul *", "15 */2 * * sun", "0 0 29 2 *", "61 * * * *",
         "*/0 * * * *", "0 24 * * *", "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8", "0 0 30 2 *", "0 0 31 2 *",
         "x * * * *", "1-70 * * * *", "0 0 * * mon-fri"]


@pytest.mark.parametrize("cron", CRONS)
def test_agrees_with_dagsters_own_check(cron: str) -> None:
    from dagster._utils.schedules import is_valid_cron_string

    assert (cron_problem(cron) is None) is is_valid_cron_string(cron)


def _with_cron(demo_copy: Path, cron: str) -> Path:
    product = demo_copy / "customer-360"
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    spec["schedule"]["cron"] = cron
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return product


@pytest.mark.parametrize(("cron", "words"), [
    ("61 * * * *", "minute field '61'"), ("*/0 * * * *", "minute field '*/0'"), ("0 24 * * *", "hour field '24'"),
    ("0 0 31 2 *", "February 31 never comes"),
])
def test_compile_refuses_a_schedule_dagster_would(demo_copy: Path, cron: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        compile_pipeline(_with_cron(demo_copy, cron), demo_copy / "manifest.embedded.yaml")
    e = err.value
    assert e.file is not None and e.file.name == "floe.yaml" and e.key == "schedule.cron" and e.value == cron
    assert words in e.message, e.message


def test_the_manifests_default_schedule_too(demo_copy: Path) -> None:
    manifest = demo_copy / "manifest.yaml"
    m = yaml.safe_load(manifest.read_text())
    m["plugins"]["orchestrator"]["default_schedule"] = "*/0 * * * *"
    manifest.write_text(yaml.safe_dump(m, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        compile_pipeline(demo_copy / "customer-360", manifest)
    assert "plugins.orchestrator.default_schedule" in str(err.value) and "'*/0'" in str(err.value)
