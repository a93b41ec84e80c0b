"""Quality: the plan follows governance, and check files are validated at compile and decide at run time.

Each plugin either reads check files (``samples.CHECK_FILES`` gives one that passes and one that fails
on ``TABLE``) or says, for any file, that it reads none.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import DEMO

from floe.compiler.stages import compile_pipeline
from floe.contract import CompiledArtifacts, ResolvedCheck
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import CHECK_FILES, HERE, params

TABLE = pa.table({"id": [1, 2, 3, 3], "amount": [10.0, 0.0, 5.5, -1.0]})
COLUMNS = ["id", "amount"]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> CompiledArtifacts:
    return compile_pipeline(DEMO / "iot-telemetry", DEMO / "manifest.embedded.yaml",
                            output_dir=tmp_path_factory.mktemp("compiled"))


def _files(name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if name not in CHECK_FILES:
        pytest.fail(f"quality plugin {name!r} has no entry in CHECK_FILES ({HERE}): give a passing and a failing "
                    "check file, or None if it reads none", pytrace=False)
    return CHECK_FILES[name]


def _check(spec: dict[str, Any]) -> ResolvedCheck:
    return ResolvedCheck(model="orders", table="conformance.orders", file="quality/orders.yml", spec=spec)


@pytest.mark.parametrize("name", params(PluginType.QUALITY))
@pytest.mark.parametrize("block", [True, False])
def test_plan_follows_governance(name: str, block: bool, sandbox: Sandbox, artifacts: CompiledArtifacts) -> None:
    governed = artifacts.model_copy(update={"governance": artifacts.governance.model_copy(
        update={"block_on_failure": block})})
    plan = sandbox.create(PluginType.QUALITY, name).plan(governed)
    assert plan.blocking is block


@pytest.mark.parametrize("name", params(PluginType.QUALITY))
def test_check_files_are_judged_at_compile(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.QUALITY, name)
    files = _files(name)
    if files is None:
        problem = plugin.check_file_problem({"columns": [{"name": "id"}]}, COLUMNS)
        assert problem is not None and problem[0] is None and problem[1], f"{name} reads none and must say so"
        return
    passing, failing = files
    assert plugin.check_file_problem(passing, COLUMNS) is None
    assert plugin.check_file_problem(failing, COLUMNS) is None  # valid, even if the data fails it
    where, message = plugin.check_file_problem({**passing, "columns": [{"name": "no_such_column"}]}, COLUMNS)
    assert where and "no_such_column" in message
    assert plugin.check_file_problem({**passing, "no_such_key": 1}, COLUMNS) is not None


@pytest.mark.parametrize("name", params(PluginType.QUALITY))
def test_outcomes_follow_the_data(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.QUALITY, name)
    assert plugin.run_checks([], lambda c: TABLE) == []
    files = _files(name)
    if files is None:
        return
    passing, failing = files
    read: list[str] = []

    def table(check: ResolvedCheck) -> pa.Table:
        read.append(check.table)
        return TABLE

    good = plugin.run_checks([_check(passing)], table)
    assert good and all(o.passed for o in good), good
    assert read == ["conformance.orders"]
    bad = plugin.run_checks([_check(failing)], table)
    failed = [o for o in bad if not o.passed]
    assert failed and all(o.model == "orders" for o in bad)
    assert len(failed) == 2 and any("id" in o.check for o in failed) and any("amount" in o.check for o in failed)
    # a column the table lacks cannot pass
    missing = plugin.run_checks([_check({"columns": [{"name": "ghost", "checks": [{"missing": None}]}]})], table)
    assert missing and not all(o.passed for o in missing)
