"""governance.secret_scanning: committed credentials in a product's dbt project are found at compile time,
reported with file, line, code and fix, never echoed, and block only where the platform says so."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS

from floe import compile_pipeline
from floe.contract import EnforcementResult, Violation
from floe.errors import ConfigError, PolicyEnforcementError
from floe.governance.secrets import MAX_BYTES, MAX_FINDINGS_PER_FILE, mask, scan_product

# Secret-like values are assembled at run time: the repository's own hygiene scan (detect-secrets over
# tests/) must find nothing in this file.
AWS_KEY = "AKIA" + "Q7XZ3K5M2N8P4R6T"
LOGIN = "Sup3r" + "S3cret!x"
API_TOKEN = "tok9" + "Qz7Lm2Wx8Rv5"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----"
RANDOM = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCY" + "9q2Lk"
PW = "pass" + "word"
PW2 = "pass" + "wd"
MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()
VALUES = [AWS_KEY, LOGIN, API_TOKEN, RANDOM]

MODEL = "models/staging/stg_crm_customers.sql"
LINES = {
    "E601": f"-- loaded with {AWS_KEY}",
    "E602": f"{{% set db_{PW} = '{LOGIN}' %}}",
    "E603": f"{{% set api_token = '{API_TOKEN}' %}}",
    "E604": f"-- {PEM}",
    "E605": f"{{% set signing = '{RANDOM}' %}}",
}


def _product(demo: Path) -> Path:
    return demo / "customer-360"


def _append(path: Path, *lines: str) -> int:
    """Append lines to ``path``; returns the line number of the first one."""
    text = path.read_text()
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + "".join(f"{line}\n" for line in lines))
    return text.count("\n") + 1


def _govern(demo: Path, level: str = "warn", **scanning: Any) -> None:
    path = demo / "manifest.yaml"
    data = yaml.safe_load(path.read_text())
    data["governance"]["policy_enforcement_level"] = level
    data["governance"]["secret_scanning"] = {"enabled": True, **scanning}
    path.write_text(yaml.safe_dump(data))


def _secret_violations(er: EnforcementResult) -> list[Violation]:
    return [v for v in er.violations if v.rule.startswith("secret_scanning")]


def _findings(demo: Path, **kwargs: Any) -> list[tuple[str, str, int]]:
    product = _product(demo)
    return [(f.code, f.file, f.line) for f in scan_product(product, product, **kwargs).findings]


# -- each rule, with its file and line ---------------------------------------------------------------
@pytest.mark.requirement("FLOE-GOV-SECRETS")
@pytest.mark.parametrize("code", sorted(LINES))
def test_each_rule_reports_file_line_code_and_fix(demo_copy: Path, code: str) -> None:
    line = _append(_product(demo_copy) / MODEL, LINES[code])
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    [v] = _secret_violations(er)
    assert (v.rule, v.file, v.line, v.model) == (f"secret_scanning.{code}", MODEL, line, f"{MODEL}:{line}")
    assert v.severity == "error"  # recorded as an error; demo/manifest.yaml is warn, so the compile goes on
    assert "env:NAME" in v.fix and "secrets plugin" in v.fix and "exclude_patterns" in v.fix and MODEL in v.fix
    assert "secret_scanning" in er.policy_types_checked and not er.passed


@pytest.mark.parametrize(("line", "code"), [
    (f"{PW}: hunter22", "E602"),                                # a YAML plain scalar
    (f"  db_{PW}: 'hunter22'", "E602"),
    (f'  "dbPassword": "{LOGIN}",', "E602"),                  # JSON, camelCase
    (f"DB_{PW.upper()} := 'hunter22'", "E602"),
    (f"{PW2} => 'hunter22'", "E602"),
    (f"apiKey: {API_TOKEN}", "E603"),
    (f"X-API-KEY = \"{API_TOKEN}\"", "E603"),
    (f"api_secret: '{API_TOKEN}'", "E603"),
    (f"{{% set api_key = '{AWS_KEY}' %}}", "E601"),              # one finding per value: the specific rule
    ("-----BEGIN OPENSSH " + "PRIVATE KEY-----", "E604"),
    ("-----BEGIN PGP " + "PRIVATE KEY BLOCK-----", "E604"),
    (f'token: "{RANDOM}"', "E605"),
])
def test_the_shapes_each_rule_finds(tmp_path: Path, line: str, code: str) -> None:
    (tmp_path / "conf.yml").write_text(f"version: 2\n{line}\n")
    assert [(f.code, f.line) for f in scan_product(tmp_path, tmp_path).findings] == [(code, 2)]


@pytest.mark.parametrize("line", [
    f"{PW}: \"{{{{ env_var('DBT_PASSWORD') }}}}\"",      # a dbt reference
    f"{PW}: env:DB_PASSWORD",                           # a floe secret reference
    "api_key: ${API_KEY}",
    f"{PW}: '********'",                                # a masked placeholder
    f"{PW}: <your password here>",
    f"{PW}: null",
    f"{PW}s_policy_doc = 'see the wiki'",               # password is not a word of the key
    f"where {PW} != 'abc'",
    f"where {PW} == 'abc'",
    f"description: the {PW} column, hashed",
    "select 'require_batched_execution_for_custom_strategy' as x",  # long names are not keys
    "select 'customer_360_orders_by_segment_2024' as x",
    "select 'DataflowNodeToSqlSubqueryVisitor' as x",
    f"select '{MD5}' as md5",                                         # hex: at most 4 bits/char
    "select `Xk2pQ9rT7vB3nM8wZ5yL1cF6` from t",                       # backticks quote identifiers
])
def test_references_placeholders_and_names_are_not_findings(tmp_path: Path, line: str) -> None:
    (tmp_path / "conf.yml").write_text(f"version: 2\n{line}\n")
    assert scan_product(tmp_path, tmp_path).findings == []


def test_the_product_floe_yaml_is_scanned(demo_copy: Path) -> None:
    spec = _product(demo_copy) / "floe.yaml"
    data = yaml.safe_load(spec.read_text())
    data["metadata"]["description"] = f"loaded with {AWS_KEY}"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    [v] = _secret_violations(compile_pipeline(spec).enforcement_result)
    assert (v.rule, v.file) == ("secret_scanning.E601", "floe.yaml")


# -- values never leave the scanner ------------------------------------------------------------------
def test_no_value_in_the_error_or_the_artifacts(demo_copy: Path, tmp_path: Path) -> None:
    _append(_product(demo_copy) / MODEL, *LINES.values())
    compile_pipeline(_product(demo_copy), output_dir=tmp_path / "out")
    artifacts = (tmp_path / "out" / "compiled_artifacts.json").read_text()
    recorded = json.loads(artifacts)["enforcement_result"]["violations"]
    assert sorted(v["rule"] for v in recorded) == [f"secret_scanning.{c}" for c in sorted(LINES)]
    _govern(demo_copy, "strict")
    with pytest.raises(PolicyEnforcementError) as err:
        compile_pipeline(_product(demo_copy), output_dir=tmp_path / "strict")
    message = str(err.value)
    assert f"{MODEL}:" in message and "[secret_scanning.E601]" in message and "AKIA…" in message
    for value in VALUES:
        for text in (artifacts, message):
            assert value not in text and value[:5] not in text
    assert not (tmp_path / "strict").exists()


def test_mask_shows_at_most_a_quarter_and_four_characters() -> None:
    assert mask(AWS_KEY) == "AKIA…"
    assert mask("hunter22") == "hu…"
    assert mask("abc") == "…"


# -- exclude_patterns ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("pattern", "excluded"), [
    (MODEL, True), ("models/staging", True), ("models/staging/", True), ("models/*", True),
    ("**/stg_crm_*.sql", True), ("*.sql", True), ("models/marts/*", False), ("stg_crm_customers.sql", False),
])
def test_exclude_patterns_are_globs_relative_to_the_product(demo_copy: Path, pattern: str, excluded: bool) -> None:
    _append(_product(demo_copy) / MODEL, LINES["E601"])
    _govern(demo_copy, exclude_patterns=[pattern])
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    assert (_secret_violations(er) == []) is excluded


# -- custom patterns and severity ---------------------------------------------------------------------
def test_custom_patterns_are_E699_with_their_own_severity(demo_copy: Path) -> None:
    line = _append(_product(demo_copy) / MODEL, "-- acme_tok_0123456789ab", "-- legacy-9f8e7d6c5b")
    _govern(demo_copy, "strict", custom_patterns=[
        {"name": "acme token", "pattern": r"acme_tok_([0-9a-f]{12})"},
        {"name": "legacy id", "pattern": r"^-- legacy-[0-9a-f]{10}$", "severity": "warning"},
    ])
    with pytest.raises(PolicyEnforcementError) as err:
        compile_pipeline(_product(demo_copy))
    [v] = err.value.violations
    assert (v.rule, v.line, v.severity) == ("secret_scanning.E699", line, "error")
    assert "custom pattern 'acme token'" in v.message and "012…" in v.message
    assert "0123456789ab" not in str(err.value)
    _govern(demo_copy, "strict", custom_patterns=[{"name": "legacy id", "pattern": r"^-- legacy-[0-9a-f]{10}$",
                                                   "severity": "warning"}])
    [w] = _secret_violations(compile_pipeline(_product(demo_copy)).enforcement_result)
    assert (w.rule, w.line, w.severity) == ("secret_scanning.E699", line + 1, "warning")


def test_severity_warning_never_blocks(demo_copy: Path) -> None:
    _append(_product(demo_copy) / MODEL, LINES["E601"])
    _govern(demo_copy, "strict", severity="warning")
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    assert [(v.rule, v.severity) for v in _secret_violations(er)] == [("secret_scanning.E601", "warning")]
    assert er.passed and er.warning_count == 1


@pytest.mark.parametrize(("pattern", "why"), [
    ("(unclosed", "is not a valid regular expression"),
    ("x?", "matches the empty string"),
])
def test_a_bad_custom_pattern_is_a_config_error_with_its_key_path(demo_copy: Path, pattern: str, why: str) -> None:
    _govern(demo_copy, custom_patterns=[{"name": "ok", "pattern": "x+"}, {"name": "bad", "pattern": pattern}])
    with pytest.raises(ConfigError) as err:
        compile_pipeline(_product(demo_copy))
    text = str(err.value)
    assert "manifest.yaml: governance.secret_scanning.custom_patterns[1].pattern" in text
    assert why in text and repr(pattern) in text


# -- enforcement levels --------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["off", "warn", "strict"])
def test_enforcement_levels(demo_copy: Path, level: str) -> None:
    _append(_product(demo_copy) / MODEL, LINES["E601"])
    _govern(demo_copy, level)
    if level == "strict":
        with pytest.raises(PolicyEnforcementError) as err:
            compile_pipeline(_product(demo_copy))
        assert err.value.exit_code == 6
        assert [(v.rule, v.severity) for v in err.value.violations] == [("secret_scanning.E601", "error")]
        return
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    if level == "off":
        assert er.violations == [] and er.policy_types_checked == []
    else:
        # warn: compiled, the finding recorded as an error (as a missing description is), so gates see it
        assert [(v.rule, v.severity) for v in _secret_violations(er)] == [("secret_scanning.E601", "error")]
        assert not er.passed and "secret_scanning" in er.policy_types_checked


def test_disabled_scanning_checks_nothing(demo_copy: Path) -> None:
    _append(_product(demo_copy) / MODEL, LINES["E601"])
    _govern(demo_copy, "strict", enabled=False)
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    assert er.passed and "secret_scanning" not in er.policy_types_checked


@pytest.mark.parametrize("manifest", ["manifest.yaml", "manifest.embedded.yaml"])
@pytest.mark.parametrize("product", PRODUCTS)
def test_the_demo_products_have_no_findings(product: str, manifest: str) -> None:
    er = compile_pipeline(DEMO / product, DEMO / manifest).enforcement_result
    assert "secret_scanning" in er.policy_types_checked and _secret_violations(er) == []


# -- what is scanned ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rel", [
    "seeds/raw_keys.csv", "target/compiled/stg.sql", "logs/dbt.log", "dbt_packages/pkg/macros/m.sql",
    ".floe/state.yml", "models/.hidden/notes.md",
])
def test_seeds_build_output_and_packages_are_not_scanned(demo_copy: Path, rel: str) -> None:
    path = _product(demo_copy) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"id,key\n1,{AWS_KEY}\n")
    assert _findings(demo_copy) == []


@pytest.mark.parametrize("rel", ["macros/keys.sql", "snapshots/s.sql", "analyses/a.sql", "tests/t.sql",
                                 "models/notes.md", "models/py_model.py", "profiles.yml"])
def test_every_other_project_file_is_scanned(demo_copy: Path, rel: str) -> None:
    path = _product(demo_copy) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"\n-- {AWS_KEY}\n")
    assert _findings(demo_copy) == [("E601", rel, 2)]


def test_links_out_of_the_product_devices_and_fifos_are_not_read(demo_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(f"-- {AWS_KEY}\n")
    models = _product(demo_copy) / "models"
    (models / "linked.md").symlink_to(outside)
    (models / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    (models / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(models / "pipe.md")
    inside = models / "staging" / "real.md"
    inside.write_text(f"-- {AWS_KEY}\n")
    (models / "alias.md").symlink_to(inside)  # inside the product: read once, where it lives
    assert _findings(demo_copy) == [("E601", "models/staging/real.md", 1)]


def test_binary_and_huge_files_are_skipped_or_bounded(demo_copy: Path) -> None:
    models = _product(demo_copy) / "models"
    (models / "blob.bin").write_bytes(b"\x89PNG\0\0" + AWS_KEY.encode() + os.urandom(1 << 20))
    huge = models / "huge.md"
    with huge.open("w") as fh:
        fh.write(f"-- {AWS_KEY}\n")
        fh.write("select 1 as x, 'abc' as y\n" * (4 * MAX_BYTES // 26))
        fh.write(f"-- {AWS_KEY}\n")  # beyond the bytes read
    started = time.perf_counter()
    assert _findings(demo_copy) == [("E601", "models/huge.md", 1)]
    assert time.perf_counter() - started < 1.0


def test_a_file_full_of_keys_is_listed_up_to_the_limit(demo_copy: Path) -> None:
    _append(_product(demo_copy) / MODEL, *[f"-- {AWS_KEY}"] * 5000)
    started = time.perf_counter()
    er = compile_pipeline(_product(demo_copy)).enforcement_result
    assert time.perf_counter() - started < 2.0
    found = _secret_violations(er)
    assert len(found) == MAX_FINDINGS_PER_FILE + 1
    assert found[-1].rule == "secret_scanning" and found[-1].file == MODEL
    assert "more possible secrets than the 20 listed" in found[-1].message


# -- the engine -----------------------------------------------------------------------------------------
def test_detect_secrets_finds_nothing_here_that_the_scan_misses(tmp_path: Path) -> None:
    """Yelp's detect-secrets (the repository hygiene scanner) and this scan agree on AWS keys and
    private keys, line by line."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    lines = [LINES["E601"], LINES["E604"], "-- ASIA" + "Q7XZ3K5M2N8P4R6T", "-----BEGIN EC " + "PRIVATE KEY-----",
             "select 1", "-- akia" + "q7xz3k5m2n8p4r6t"]
    (tmp_path / "m.sql").write_text("\n".join(lines) + "\n")
    ours = {f.line for f in scan_product(tmp_path, tmp_path).findings}
    theirs = {n for n, line in enumerate(lines, start=1) for plugin in (AWSKeyDetector(), PrivateKeyDetector())
              if plugin.analyze_line(filename="m.sql", line=line, line_number=n)}
    assert ours == theirs == {1, 2, 3, 4}


def test_compile_does_not_import_detect_secrets() -> None:
    code = ("import sys\nfrom floe import compile_pipeline\n"
            f"compile_pipeline({str(DEMO / 'customer-360')!r})\n"
            "print([m for m in ('detect_secrets', 'requests') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
