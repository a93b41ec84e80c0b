"""soda quality: each check file of floe.yaml (``quality.checks``) is a Soda data contract for one model,
verified after the models ran and before the run publishes them; the dbt project's tests run too.

A check file is a Soda contract without ``dataset``: floe names the table (the model's, in the
product's namespace). It is validated at compile against Soda's own contract JSON schema, and its
columns against the model's schema.yml. At run time the table this run built is handed over as Arrow
and verified with soda-core on an in-memory DuckDB (soda-duckdb), whatever engine built it.

Soda's anonymous usage telemetry is switched off (it would replace the process's OpenTelemetry tracer
provider and send spans to soda.io); ``soda_core`` is imported only when a run has checks.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import yaml

from floe.config.plugins import PluginConfig
from floe.errors import PluginError
from floe.plugins.interfaces import CheckOutcome, QualityPlan, QualityPlugin

if TYPE_CHECKING:
    from floe.contract import CompiledArtifacts, ResolvedCheck

DATA_SOURCE = "floe"


class SodaQualityConfig(PluginConfig):
    type: Literal["soda"]
    dbt_tests: bool = True
    """Run the dbt project's tests (schema.yml) too, each right after its model."""


class SodaQualityPlugin(QualityPlugin):
    name: ClassVar[str] = "soda"
    description: ClassVar[str] = "Soda data contracts (soda-core) on the tables a run built, plus the dbt tests"
    config_model = SodaQualityConfig
    config: SodaQualityConfig | None

    def plan(self, artifacts: CompiledArtifacts) -> QualityPlan:
        dbt_tests = self.config.dbt_tests if self.config else True
        return QualityPlan(dbt_tests=dbt_tests, blocking=artifacts.governance.block_on_failure)

    def check_file_problem(self, doc: Mapping[str, Any], columns: Sequence[str]) -> tuple[str | None, str] | None:
        if "dataset" in doc:
            return ("dataset", "floe names the dataset (the model's table in the product's namespace): remove "
                               "`dataset` from the check file")
        import jsonschema

        validator = jsonschema.Draft202012Validator(_contract_schema())
        errors = sorted(validator.iter_errors({"dataset": f"{DATA_SOURCE}/product/model", **doc}),
                        key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
        if errors:
            return (_key(errors[0]), f"not a Soda data contract: {errors[0].message}")
        if columns:
            for i, col in enumerate(doc.get("columns") or []):
                name = col.get("name") if isinstance(col, Mapping) else None
                if name is not None and name not in columns:
                    return (f"columns[{i}].name", f"column {name!r} is not a column of the model (schema.yml "
                                                 f"declares: {', '.join(columns)})")
        return None

    def run_checks(self, checks: Sequence[ResolvedCheck], read: Callable[[ResolvedCheck], Any]) -> list[CheckOutcome]:
        if not checks:
            return []
        os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"
        import duckdb
        from soda_core.contracts.api.verify_api import verify_contract_locally
        from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl
        from soda_duckdb.common.data_sources.duckdb_data_source_connection import DuckDBDataSource

        outcomes: list[CheckOutcome] = []
        con = duckdb.connect(":memory:")
        try:
            with tempfile.TemporaryDirectory(prefix="floe-soda-") as tmp:
                for check in checks:
                    schema, table = check.table.split(".", 1)
                    con.execute(f'create schema if not exists "{schema}"')
                    con.register("floe_checked", read(check))
                    # names from the compiled artifacts (product slug, dbt model name), not from data
                    con.execute(f'create or replace table "{schema}"."{table}" as select * from floe_checked')  # noqa: S608
                    con.unregister("floe_checked")
                    source = DuckDBDataSourceImpl(data_source_model=DuckDBDataSource.model_validate(
                        {"type": "duckdb", "name": DATA_SOURCE,
                         "connection": {"duckdb_connection": con, "schema": schema}}))
                    path = Path(tmp) / f"{check.model}.yml"
                    path.write_text(yaml.safe_dump({"dataset": f"{DATA_SOURCE}/{schema}/{table}", **check.spec},
                                                   sort_keys=False), encoding="utf-8")
                    result = verify_contract_locally(data_sources=[source], contract_file_path=str(path))
                    outcomes.extend(_outcomes(check, result))
        finally:
            con.close()
        return outcomes


def _outcomes(check: ResolvedCheck, result: Any) -> list[CheckOutcome]:
    out: list[CheckOutcome] = []
    for verification in result.contract_verification_results:
        for r in verification.check_results:
            c = r.check
            what = f"{c.column_name}: {c.name}" if getattr(c, "column_name", None) else str(c.name)
            measured = "" if r.threshold_value is None else f"measured {r.threshold_value}"
            out.append(CheckOutcome(model=check.model, check=what, passed=not r.is_failed, detail=measured))
    if result.has_errors:
        # a contract soda could not evaluate (a missing column, a query error) is a failed check
        out.append(CheckOutcome(model=check.model, check=f"{check.file} could not be verified", passed=False,
                                detail=result.get_errors_str().strip()[:500]))
    return out


def _key(err: Any) -> str:
    """The key path of a JSON-schema error; for an unexpected or a missing key, that key."""
    parts = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        parts += sorted(k for k in err.instance if k not in allowed)[:1]
    elif err.validator == "required" and isinstance(err.instance, dict):
        parts += [k for k in err.validator_value if k not in err.instance][:1]
    key = ""
    for part in parts:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(document)"


@cache
def _contract_schema() -> dict[str, Any]:
    """Soda's data contract JSON schema, from the installed soda-core (read without importing it)."""
    spec = find_spec("soda_core")
    if spec is None or spec.origin is None:
        raise PluginError("soda-core is not installed", plugin="soda",
                          hint="install floe's dependencies (`make setup`)")
    path = Path(spec.origin).parent / "contracts" / "soda_data_contract_json_schema_1_0_0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema
