"""Paths that lead out of the product, broken dbt projects and secrets in floe.yaml: each refused
with a message naming the file and the key (or model), and exit code 5 from the real CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.hostile.conftest import floe_cli


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _fails(product: Path, *expected: str, manifest: str = "manifest.embedded.yaml") -> str:
    code, stderr = floe_cli("validate", str(product), "-m", str(product.parent / manifest))
    assert code == 5, stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in stderr.replace("\n", " "), stderr
    return stderr


# -- paths -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value", "message"), [
    ("dbt.project_dir", "..", "path leads out of customer-360/"),
    ("dbt.project_dir", "/etc", "absolute paths are not allowed here"),
    ("sensors[0].watch_path", "../../../etc/passwd", "path leads out of customer-360/"),
    ("sensors[0].watch_path", "/etc/passwd", "absolute paths are not allowed here"),
])
def test_product_paths_stay_inside_the_product(product: Path, key: str, value: str, message: str) -> None:
    def change(doc: dict[str, Any]) -> None:
        if key.startswith("dbt"):
            doc["dbt"] = {"project_dir": value}
        else:
            doc["sensors"] = [{"name": "s", "watch_path": value}]

    _edit(product / "floe.yaml", change)
    _fails(product, f"floe.yaml: {key}: {message}", repr(value))


def test_a_symlinked_project_dir_out_of_the_product_is_refused(product: Path, tmp_path: Path) -> None:
    (product / "elsewhere").symlink_to(product.parent / "iot-telemetry", target_is_directory=True)
    _edit(product / "floe.yaml", lambda d: d.update(dbt={"project_dir": "elsewhere"}))
    _fails(product, "dbt.project_dir: path is a symlink out of customer-360/")


def test_the_platform_manifest_must_be_yaml(product: Path) -> None:
    _edit(product / "floe.yaml", lambda d: d.update(platform={"manifest": "../../../../etc/passwd"}))
    code, stderr = floe_cli("validate", str(product))
    assert code == 5 and "platform.manifest: the platform manifest must be a .yaml file" in stderr


@pytest.mark.parametrize(("key", "change"), [
    ("plugins.storage.path", lambda d: d["plugins"]["storage"].update(path="../../outside")),
    ("plugins.lineage_backend.path", lambda d: d["plugins"]["lineage_backend"].update(path="../x.jsonl")),
    ("platform.products[0]", lambda d: d.update(platform={"products": ["../../*/floe.yaml"]})),
])
def test_manifest_paths_do_not_climb_out(product: Path, key: str, change: Any) -> None:
    _edit(product.parent / "manifest.embedded.yaml", change)
    _fails(product, f"manifest.embedded.yaml: {key}: path leads out of demo/")


def test_a_model_file_linking_out_of_the_project_is_refused(product: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.sql"
    outside.write_text("select 1")
    (product / "models" / "staging" / "stg_leak.sql").symlink_to(outside)
    _fails(product, "stg_leak.sql: file links outside the dbt project", str(outside))


def test_model_paths_outside_the_project_are_refused(product: Path) -> None:
    _edit(product / "dbt_project.yml", lambda d: d.update({"model-paths": ["../iot-telemetry/models"]}))
    _fails(product, "dbt_project.yml: model-paths: folder is outside the dbt project")


def test_a_link_to_a_device_is_not_read(product: Path) -> None:
    """The source hash walks the project: a link to /dev/zero must not hang compile."""
    (product / "zero").symlink_to("/dev/zero")
    code, stderr = floe_cli("validate", str(product), "-m", str(product.parent / "manifest.embedded.yaml"))
    assert code == 0, stderr


# -- broken dbt projects ---------------------------------------------------------------------------
def test_missing_dbt_project_yml(product: Path) -> None:
    (product / "dbt_project.yml").unlink()
    _fails(product, "customer-360/dbt_project.yml: no dbt project here (dbt_project.yml not found)")


def test_ref_to_a_model_that_does_not_exist(product: Path) -> None:
    sql = product / "models" / "marts" / "mart_customer_360.sql"
    sql.write_text(sql.read_text() + "\n-- {{ ref('no_such_model') }}\n")
    _fails(product, "models/marts/mart_customer_360.sql: model 'mart_customer_360' refs unknown model(s) "
                    "['no_such_model']")


def test_a_cycle_names_the_model_and_its_file(product: Path) -> None:
    sql = product / "models" / "staging" / "stg_transactions.sql"
    sql.write_text(sql.read_text() + "\n-- {{ ref('int_customer_orders') }}\n")
    _edit(product / "floe.yaml", lambda d: d["transforms"][0:6].clear())
    _fails(product, "circular model dependency: model 'int_customer_orders' refs itself through "
                    "int_customer_orders -> stg_transactions -> int_customer_orders",
           "models/intermediate/int_customer_orders.sql")


@pytest.mark.parametrize(("broken", "line", "why"), [
    ("{% if is_incremental() %} where 1 = 1", 3, "Unexpected end of template"),
    ("select {{ ref('stg_transactions' }}", 3, "unexpected '}'"),
    ("{% endfor %}", 3, "Encountered unknown tag 'endfor'"),
])
def test_a_model_that_is_not_valid_jinja(product: Path, broken: str, line: int, why: str) -> None:
    sql = product / "models" / "intermediate" / "int_customer_orders.sql"
    sql.write_text(f"-- broken\n\n{broken}\n")
    stderr = _fails(product, "models/intermediate/int_customer_orders.sql: model 'int_customer_orders' is not "
                             f"valid Jinja (line {line})")
    assert why in stderr


def test_a_malformed_schema_file(product: Path) -> None:
    (product / "models" / "marts" / "schema.yml").write_text("version: 2\nmodels:\n  name: oops\n")
    _fails(product, "models/marts/schema.yml: models: must be a list of models")


# -- secrets in floe.yaml --------------------------------------------------------------------------
@pytest.mark.parametrize(("where", "key"), [
    ("", "password"), ("metadata", "db_password"), ("metadata.labels", "apiToken"), ("", "credentials"),
    ("transforms[0]", "client_secret"), ("", "secret"), ("schedule", "API-KEY"), ("", "private_key"),
])
def test_secrets_in_floe_yaml_are_refused_with_where_they_belong(product: Path, where: str, key: str) -> None:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in filter(None, where.replace("[0]", ".0").split(".")):
            node = node[int(part)] if part.isdigit() else node[part]
        node[key] = "hunter2"  # pragma: allowlist secret

    _edit(product / "floe.yaml", change)
    path = f"{where}.{key}" if where else key
    stderr = _fails(product, f"floe.yaml: {path}: secrets do not belong in floe.yaml",
                    "manifest.yaml by name", "env:NAME", "secrets plugin resolves them at run time")
    assert "hunter2" not in stderr  # the value is never echoed


def test_secret_words_inside_other_words_are_not_secrets() -> None:
    from floe.config.loader import is_secret_key

    assert not any(map(is_secret_key, ["tokenizer", "secretary", "passwords_policy_doc", "owner", "keys"]))
    assert all(map(is_secret_key, ["password", "dbPassword", "auth-token", "AWS_SECRET_ACCESS_KEY", "apikey"]))


# -- atomic output ---------------------------------------------------------------------------------
def _outputs(product: Path) -> dict[str, bytes]:
    root = product / "target" / "floe"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_failed_compile_leaves_the_previous_artifacts_untouched(product: Path) -> None:
    manifest = str(product.parent / "manifest.embedded.yaml")
    assert floe_cli("compile", str(product), "-m", manifest)[0] == 0
    before = _outputs(product)
    assert any(name.endswith("compiled_artifacts.json") for name in before)
    sql = product / "models" / "marts" / "mart_customer_360.sql"
    sql.write_text("{% if %}")
    code, stderr = floe_cli("compile", str(product), "-m", manifest)
    assert code == 5 and "is not valid Jinja" in stderr
    assert _outputs(product) == before
    assert sorted(p.name for p in (product / "target" / "floe").iterdir()) == ["floe-embedded"]


@pytest.mark.parametrize("failing", ["write", "swap"])
def test_a_failure_while_writing_leaves_no_partial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         failing: str) -> None:
    from floe.compiler.stages import write_outputs

    out = tmp_path / "out"
    write_outputs({"a.json": "old a", "b.yml": "old b"}, out)
    real_write, real_rename = Path.write_text, Path.rename

    def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.name == "b.yml":
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    def rename(self: Path, target: Any) -> Path:
        if Path(target) == out and self.name.startswith(".out.") and not self.name.startswith(".out.old-"):
            raise OSError(18, "Invalid cross-device link")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "write_text" if failing == "write" else "rename",
                        write_text if failing == "write" else rename)
    with pytest.raises(OSError):
        write_outputs({"a.json": "new a", "b.yml": "new b"}, out)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert (out / "a.json").read_text() == "old a" and (out / "b.yml").read_text() == "old b"
