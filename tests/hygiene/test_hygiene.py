"""Repository hygiene: no hardcoded secrets (15-FR-013), no eval/exec/shell=True, bandit clean."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import ROOT

SCANNED = ["src", "tests", "demo", "charts", "services", "docker", "benchmarks", "Makefile", "README.md", ".ci"]
# Lock files hold package hashes, golden files compiler output; neither can hold a credential.
EXCLUDE = r"(uv\.lock|/golden/|/target/|/\.venv/|/logs/|\.csv$)"
# Reference values (env:NAME, dbt env_var() calls, enum names) are not credentials.
NOT_SECRETS = (r"^((env|file|k8s):[A-Za-z0-9_./:-]+|\{\{ ?env_var\(.*"  # pragma: allowlist secret
               r"|secrets|floe\.secrets|floe_catalog|floe_s3|secrets\.env)$")  # pragma: allowlist secret


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.requirement("15-FR-013")
def test_no_hardcoded_secrets() -> None:
    paths = [p for p in SCANNED if (ROOT / p).exists()]
    r = subprocess.run(
        [_bin("detect-secrets"), "scan", "--all-files", "--exclude-files", EXCLUDE,
         "--exclude-secrets", NOT_SECRETS, *paths],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    findings = {
        f"{path}:{hit['line_number']} ({hit['type']})"
        for path, hits in json.loads(r.stdout)["results"].items() for hit in hits
    }
    assert findings == set(), "hardcoded secrets found:\n" + "\n".join(sorted(findings))


def test_no_eval_exec_or_shell_true_in_src() -> None:
    offenders = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id in {"eval", "exec", "__import__"}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}()")
                for kw in node.keywords:
                    if kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} shell=True")
    assert offenders == []


def test_bandit_finds_nothing_high() -> None:
    r = subprocess.run([_bin("bandit"), "-q", "-r", "src", "-ll", "-f", "json"], capture_output=True, text=True,
                       cwd=ROOT, check=False)
    report = json.loads(r.stdout)
    high = [f"{i['filename']}:{i['line_number']} {i['test_id']} {i['issue_text']}" for i in report["results"]
            if i["issue_severity"] == "HIGH"]
    assert high == []


def test_secret_fields_are_references_or_secretstr() -> None:
    """Every config field whose name suggests a secret is typed SecretRef / SecretStr, never str."""
    from pydantic import BaseModel, SecretStr

    from floe.config import PlatformManifest
    from floe.config._base import SecretRef
    from floe.plugins import PluginType, get_registry

    suspicious = ("secret", "password", "token", "credential", "access_key")
    bad: list[str] = []

    def visit(model: type[BaseModel], trail: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            args = getattr(ann, "__args__", ()) or (ann,)
            for arg in args:
                inner = getattr(arg, "__args__", ()) or (arg,)
                for a in inner:
                    if isinstance(a, type) and issubclass(a, BaseModel) and a is not SecretRef:
                        visit(a, f"{trail}.{name}")
            nested = any(isinstance(a, type) and issubclass(a, BaseModel) and a is not SecretRef for a in args)
            if any(s in name.lower() for s in suspicious) and not nested \
                    and not name.endswith(("_path", "_uri", "_url")):
                flat = {a for arg in args for a in (getattr(arg, "__args__", ()) or (arg,))}
                if not flat <= {SecretRef, SecretStr, type(None)}:
                    bad.append(f"{trail}.{name}: {ann}")

    visit(PlatformManifest, "manifest")
    registry = get_registry()
    for ptype in PluginType:  # every installed plugin's own config model, third-party ones too
        for name in registry.type_names(ptype.slot):
            model = registry.config_model(ptype.slot, name)
            assert model is not None
            visit(model, f"manifest.plugins.{ptype.slot}[{name}]")
    assert bad == []
