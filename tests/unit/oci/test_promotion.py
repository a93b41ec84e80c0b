"""Promotion: transition matrix, gates, audit records, promote and rollback against an in-memory registry."""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.unit.oci.conftest import manifest_with, variant
from tests.unit.oci.fake_registry import FakeRegistry

from floe.errors import ConfigError
from floe.oci.client import ArtifactStore
from floe.oci.errors import ArtifactError, GateValidationError, InvalidReferenceError, InvalidTransitionError
from floe.oci.promotion import (
    AuditLog,
    AuditRecord,
    CommandAudit,
    GateContext,
    GateFailed,
    GateSkipped,
    Promoter,
    PromotionConfig,
    check_transition,
    default_audit_log,
    run_gates,
)
from floe.oci.signing import VerificationResult
from floe.oci.tags import ArtifactRef
from floe.plugins.registry import load_manifest

ENVS = ("dev", "staging", "prod")
REPO = "floe/customer-360"
REF = ArtifactRef(REPO, tag="v1.0.0")
OK = [sys.executable, "-I", "-S", "-c", "pass"]


# -- transitions --------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ENVS)
@pytest.mark.parametrize("target", ENVS)
def test_transition_matrix(source: str, target: str) -> None:
    i, j = ENVS.index(source), ENVS.index(target)
    if j == i + 1:
        check_transition(source, target)
        return
    with pytest.raises(InvalidTransitionError) as exc:
        check_transition(source, target)
    msg = str(exc.value)
    if j == i:
        assert f"{source} -> {target}: the artifact is already in {target}" in msg
    elif j < i:
        assert f"{source} -> {target} goes backwards" in msg and "floe artifacts rollback" in msg
    else:
        assert f"{source} -> {target} skips staging" in msg and "promote to staging first" in msg


def test_skip_message_names_every_skipped_environment() -> None:
    envs = ("dev", "qa", "staging", "prod")
    with pytest.raises(InvalidTransitionError, match="dev -> prod skips qa, staging"):
        check_transition("dev", "prod", envs)


@pytest.mark.parametrize(("source", "target"), [("qa", "prod"), ("dev", "production")])
def test_unknown_environment_is_named(source: str, target: str) -> None:
    with pytest.raises(InvalidTransitionError) as exc:
        check_transition(source, target)
    bad = source if source not in ENVS else target
    assert f"unknown environment {bad!r}" in str(exc.value) and "dev -> staging -> prod" in str(exc.value)


# -- config (manifest.yaml artifacts.promotion) ------------------------------------------------------
def test_config_defaults_and_manifest_section(tmp_path: Path) -> None:

    default = PromotionConfig()
    assert default.env_tuple == ENVS
    assert [default.gates_for(e).vulnerability_audit for e in ENVS] == ["if_configured", "if_configured", "required"]
    manifest = load_manifest(manifest_with(tmp_path, """registry:
  url: https://registry.example.com
  username: env:CI_USER
  password: file:/run/secrets/registry
promotion:
  audit_command: [pip-audit, --strict]
  gate_timeout_seconds: 30
  environments:
    - dev
    - name: qa
      gates:
        tests_passed: false
        vulnerability_audit: "off"
    - name: prod
      gates:
        vulnerability_audit: required
"""))
    cfg = manifest.artifacts.promotion
    assert cfg.env_tuple == ("dev", "qa", "prod") and cfg.audit_command == ["pip-audit", "--strict"]
    assert not cfg.gates_for("qa").tests_passed and cfg.gates_for("prod").vulnerability_audit == "required"
    assert manifest.registry_url == "https://registry.example.com"
    assert str(manifest.artifacts.registry.password) == "file:/run/secrets/registry"
    embedded = load_manifest(Path(__file__).parents[3] / "demo" / "manifest.embedded.yaml")
    assert embedded.registry_url == "http://127.0.0.1:5050" and embedded.artifacts.promotion == default


@pytest.mark.parametrize(("text", "key", "fragment"), [
    ("promotion:\n  environments: [dev]\n", "artifacts.promotion.environments", "at least two distinct names"),
    ("promotion:\n  environments: [dev, Prod]\n", "artifacts.promotion.environments[1].name",
     "environment name 'Prod' is not allowed: a lowercase letter"),
    ("promotion:\n  environments: [{name: dev, gates: {tests_passed: false}}, prod]\n",
     "artifacts.promotion.environments", "the first environment (dev) has gates"),
    ("promotion:\n  environments: [dev, {name: prod, gates: {vulnerability_audit: always}}]\n",
     "artifacts.promotion.environments[1].gates.vulnerability_audit", "'required', 'if_configured' or 'off'"),
    ("promotion:\n  audit_command: []\n", "artifacts.promotion.audit_command", "non-empty argv"),
    ("promotion:\n  audit_required_in: [prod]\n", "artifacts.promotion.audit_required_in", "unknown key"),
    ("registry:\n  password: hunter2\n", "artifacts.registry.password", "must look like 'env:NAME'"),
])
def test_config_errors_name_file_key_and_fix(tmp_path: Path, text: str, key: str, fragment: str) -> None:

    path = manifest_with(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_manifest(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: {key}: ") and fragment in message, message


# -- gates --------------------------------------------------------------------------------------------
def _ctx(content: bytes | None, *, target: str = "staging", verification: VerificationResult | None = None,
         config: PromotionConfig | None = None) -> GateContext:
    return GateContext(REF, "sha256:" + "a" * 64, "dev", target, content, None if content else "gone",
                       verification, config or PromotionConfig())


def test_gates_pass_fail_skip_and_crash_are_all_recorded() -> None:
    def crash(ctx: GateContext) -> str:
        raise RuntimeError("boom")

    def skip(ctx: GateContext) -> str:
        raise GateSkipped("not applicable")

    def fail(ctx: GateContext) -> str:
        raise GateFailed("no")

    results = run_gates(_ctx(b"{}"), [("ok", lambda ctx: "fine"), ("fail", fail), ("skip", skip),
                                      ("crash", crash)])
    assert [(r.gate, r.status) for r in results] == [("ok", "passed"), ("fail", "failed"), ("skip", "skipped"),
                                                     ("crash", "failed")]
    assert results[0].detail == "fine" and results[1].error == "no" and results[2].detail == "not applicable"
    assert results[3].error == "gate crashed: RuntimeError: boom"
    assert all(r.duration_ms >= 0 for r in results)


def test_default_gates(artifacts_json: bytes) -> None:
    from floe.oci.promotion import compiles_gate, signature_gate, tests_gate

    assert compiles_gate(_ctx(artifacts_json)) == "customer-360 1.0.0"
    with pytest.raises(GateFailed, match="not valid CompiledArtifacts"):
        compiles_gate(_ctx(b'{"version": "1.0.0"}'))
    with pytest.raises(GateFailed, match="content unavailable: gone"):
        compiles_gate(_ctx(None))
    assert "0 errors" in tests_gate(_ctx(artifacts_json))
    failing = variant(artifacts_json, enforcement_result__passed=False, enforcement_result__error_count=2)
    with pytest.raises(GateFailed, match=re.escape("enforcement_result.passed is false (2 error")):
        tests_gate(_ctx(failing))
    with pytest.raises(GateFailed, match="no public key"):
        signature_gate(_ctx(artifacts_json))
    with pytest.raises(GateFailed, match="unsigned: nope"):
        signature_gate(_ctx(artifacts_json, verification=VerificationResult("unsigned", "nope")))
    assert signature_gate(_ctx(artifacts_json, verification=VerificationResult("valid", "yes"))) == "yes"


def test_command_audit_passes_on_exit_0_and_sees_the_artifact(artifacts_json: bytes, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    script = "import os, shutil, sys; shutil.copy(sys.argv[1], sys.argv[2]); " \
             "assert os.environ['FLOE_ARTIFACT_DIGEST'] == sys.argv[3]"
    audit = CommandAudit([sys.executable, "-c", script, "{path}", str(seen), "{digest}"])
    [result] = run_gates(_ctx(artifacts_json), [("vulnerability_audit", audit)])
    assert result.status == "passed", result.error
    assert seen.read_bytes() == artifacts_json


@pytest.mark.parametrize(("command", "fragment"), [
    ([sys.executable, "-c", "import sys; sys.stderr.write('CVE-2099-1 in foo'); sys.exit(3)"],
     "exited 3: CVE-2099-1 in foo"),
    (["/nonexistent/scanner"], "audit command not found: '/nonexistent/scanner'"),
    ([sys.executable, "-c", "import time; time.sleep(5)"], "timed out after 0.3s"),
])
def test_command_audit_failures_record_error_and_duration(artifacts_json: bytes, command: list[str],
                                                          fragment: str) -> None:
    [result] = run_gates(_ctx(artifacts_json), [("vulnerability_audit", CommandAudit(command, timeout=0.3))])
    assert result.status == "failed"
    assert result.error is not None and fragment in result.error
    assert result.duration_ms > 0


def test_missing_audit_command_skips_below_prod_and_fails_into_prod(artifacts_json: bytes) -> None:
    from floe.oci.promotion import _no_audit

    [staging] = run_gates(_ctx(artifacts_json, target="staging"), [("vulnerability_audit", _no_audit)])
    [prod] = run_gates(_ctx(artifacts_json, target="prod"), [("vulnerability_audit", _no_audit)])
    assert staging.status == "skipped" and "no audit command configured" in staging.detail
    assert prod.status == "failed" and prod.error is not None and "require one" in prod.error


# -- promote / rollback against the in-memory registry ------------------------------------------------
@pytest.fixture
def promoter(store: ArtifactStore, public_key: Any, tmp_path: Path) -> Promoter:
    return Promoter(store, config=PromotionConfig(audit_command=OK), public_key=public_key,
                    audit_log=AuditLog(tmp_path / "audit.jsonl"))


def _push(store: ArtifactStore, private_key: Any, content: bytes, tag: str = "v1.0.0") -> str:
    return store.push(ArtifactRef(REPO, tag=tag), content, signing_key=private_key).digest


def test_promotion_tags_and_audit_record(promoter: Promoter, store: ArtifactStore, fake: FakeRegistry,
                                         private_key: Any, artifacts_json: bytes) -> None:
    digest = _push(store, private_key, artifacts_json)
    record = promoter.promote(REF, "staging", operator="ci@floe.dev")
    assert fake.tags[REPO]["v1.0.0-staging"] == digest == fake.tags[REPO]["env-staging"]
    assert (record.action, record.outcome, record.source_env, record.target_env) == (
        "promote", "promoted", "dev", "staging")
    assert record.digest == digest and record.operator == "ci@floe.dev" and record.tag == "v1.0.0"
    assert uuid.UUID(record.id).version == 4
    assert len(record.trace_id) == 32 and int(record.trace_id, 16) >= 0
    assert [g.gate for g in record.gate_results] == ["compiles", "tests_passed", "signature", "vulnerability_audit"]
    assert all(g.status == "passed" for g in record.gate_results)
    # stored twice: the local JSON lines log and a record artifact in the registry
    assert promoter.audit_log.read() == [record]
    line = json.loads(promoter.audit_log.path.read_text().splitlines()[0])
    assert {"id", "digest", "source_env", "target_env", "operator", "time", "gate_results", "trace_id"} <= set(line)
    assert line["schema"] == "floe.dev/promotion-record/v1"
    assert f"audit-{record.id}" in fake.tags[REPO]
    assert promoter.history(REPO) == [record]
    assert promoter.environment_of(REPO, "v1.0.0", digest) == "staging"
    assert store.inspect(REF).environments == ["staging"]


def test_full_path_then_forbidden_transitions(promoter: Promoter, store: ArtifactStore, private_key: Any,
                                              artifacts_json: bytes) -> None:
    _push(store, private_key, artifacts_json)
    with pytest.raises(InvalidTransitionError, match="dev -> prod skips staging"):
        promoter.promote(REF, "prod")
    promoter.promote(REF, "staging")
    with pytest.raises(InvalidTransitionError, match="staging -> staging: the artifact is already in staging"):
        promoter.promote(REF, "staging")
    with pytest.raises(InvalidTransitionError, match=r"prod -> staging: .* is in staging, not prod"):
        promoter.promote(REF, "staging", source="prod")
    promoter.promote(REF, "prod", source="staging")
    with pytest.raises(InvalidTransitionError, match="prod -> staging goes backwards"):
        promoter.promote(REF, "staging")
    with pytest.raises(InvalidTransitionError, match="unknown environment 'qa'"):
        promoter.promote(REF, "qa")
    assert [r.target_env for r in promoter.history(REPO)] == ["staging", "prod"]


def test_trace_id_comes_from_the_current_span(promoter: Promoter, store: ArtifactStore, private_key: Any,
                                              artifacts_json: bytes) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    _push(store, private_key, artifacts_json)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("ci-pipeline") as span:
        record = promoter.promote(REF, "staging")
    assert record.trace_id == format(span.get_span_context().trace_id, "032x")


def test_failing_gate_rejects_and_is_still_audited(store: ArtifactStore, fake: FakeRegistry, public_key: Any,
                                                   private_key: Any, artifacts_json: bytes, tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "import sys; print('2 critical vulnerabilities'); sys.exit(1)"]
    promoter = Promoter(store, config=PromotionConfig(audit_command=failing), public_key=public_key,
                        audit_log=AuditLog(tmp_path / "audit.jsonl"))
    _push(store, private_key, variant(artifacts_json, enforcement_result__passed=False))
    with pytest.raises(GateValidationError) as exc:
        promoter.promote(REF, "staging")
    msg = str(exc.value)
    assert "was not promoted dev -> staging" in msg
    assert "tests_passed (enforcement_result.passed is false" in msg
    assert "vulnerability_audit (audit command" in msg and "2 critical vulnerabilities" in msg
    assert {g.gate for g in exc.value.failed} == {"tests_passed", "vulnerability_audit"}
    assert "v1.0.0-staging" not in fake.tags[REPO] and "env-staging" not in fake.tags[REPO]
    [record] = promoter.audit_log.read()
    assert record.outcome == "rejected" and record == exc.value.record
    audit = next(g for g in record.gate_results if g.gate == "vulnerability_audit")
    assert audit.status == "failed" and audit.duration_ms > 0 and audit.error
    assert promoter.history(REPO) == [record]


def test_unsigned_artifact_cannot_be_promoted(promoter: Promoter, store: ArtifactStore,
                                              artifacts_json: bytes) -> None:
    store.push(REF, artifacts_json)
    with pytest.raises(GateValidationError, match=re.escape("signature (unsigned: no signature for sha256:")):
        promoter.promote(REF, "staging")


def test_dry_run_runs_gates_and_changes_nothing(promoter: Promoter, store: ArtifactStore, fake: FakeRegistry,
                                                private_key: Any, artifacts_json: bytes) -> None:
    _push(store, private_key, artifacts_json)
    tags = set(fake.tags[REPO])
    record = promoter.promote(REF, "staging", dry_run=True)
    assert record.outcome == "dry_run" and len(record.gate_results) == 4
    assert set(fake.tags[REPO]) == tags and not promoter.audit_log.path.exists()


def test_promote_needs_an_existing_tag(promoter: Promoter) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        promoter.promote(REF, "staging")
    with pytest.raises(InvalidReferenceError, match="promote a tag, not a digest"):
        promoter.promote(ArtifactRef(REPO, digest="sha256:" + "0" * 64), "staging")


def _to_prod(promoter: Promoter, tag: str) -> None:
    ref = ArtifactRef(REPO, tag=tag)
    promoter.promote(ref, "staging")
    promoter.promote(ref, "prod")


def test_rollback_walks_back_through_promoted_versions(promoter: Promoter, store: ArtifactStore,
                                                       fake: FakeRegistry, private_key: Any,
                                                       artifacts_json: bytes) -> None:
    digests = {}
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        digests[version] = _push(store, private_key, variant(artifacts_json, metadata__product_version=version),
                                 tag=f"v{version}")
        _to_prod(promoter, f"v{version}")
    assert fake.tags[REPO]["env-prod"] == digests["1.2.0"]
    record = promoter.rollback(REPO, "prod", reason="bad numbers", operator="oncall@floe.dev")
    assert fake.tags[REPO]["env-prod"] == digests["1.1.0"]
    assert (record.action, record.outcome, record.target_env, record.tag) == ("rollback", "rolled_back", "prod",
                                                                              "v1.1.0")
    assert record.previous_digest == digests["1.2.0"] and record.digest == digests["1.1.0"]
    assert record.reason == "bad numbers" and record.operator == "oncall@floe.dev"
    assert {g.gate for g in record.gate_results} == {"compiles", "signature"}
    promoter.rollback(REPO, "prod")
    assert fake.tags[REPO]["env-prod"] == digests["1.0.0"]
    with pytest.raises(ArtifactError, match="no earlier version promoted to prod"):
        promoter.rollback(REPO, "prod")
    forward = promoter.rollback(REPO, "prod", to="v1.2.0")
    assert fake.tags[REPO]["env-prod"] == digests["1.2.0"] == forward.digest
    # every promotion and rollback is in both audit stores
    history = promoter.history(REPO)
    assert [r.action for r in history].count("rollback") == 3
    assert [r.id for r in history] == [r.id for r in promoter.audit_log.read()]


def test_rollback_refusals(promoter: Promoter, store: ArtifactStore, private_key: Any,
                           artifacts_json: bytes) -> None:
    with pytest.raises(ArtifactError, match="nothing has been promoted to prod in floe/customer-360"):
        promoter.rollback(REPO, "prod")
    with pytest.raises(InvalidTransitionError, match="artifacts are pushed into it"):
        promoter.rollback(REPO, "dev")
    with pytest.raises(InvalidTransitionError, match="unknown environment"):
        promoter.rollback(REPO, "qa")
    _push(store, private_key, artifacts_json)
    _to_prod(promoter, "v1.0.0")
    _push(store, private_key, variant(artifacts_json, metadata__product_version="2.0.0"), tag="v2.0.0")
    with pytest.raises(ArtifactError, match=re.escape("v2.0.0 was never promoted to prod in floe/customer-360 "
                                                      "(no tag v2.0.0-prod)")):
        promoter.rollback(REPO, "prod", to="v2.0.0")
    with pytest.raises(ArtifactError, match="prod already runs"):
        promoter.rollback(REPO, "prod", to="v1.0.0")
    with pytest.raises(ArtifactError, match="was never promoted to prod"):
        promoter.rollback(REPO, "prod", to="sha256:" + "9" * 64)


def test_rollback_target_that_was_tampered_is_rejected(promoter: Promoter, store: ArtifactStore,
                                                       fake: FakeRegistry, private_key: Any,
                                                       artifacts_json: bytes) -> None:
    from floe.oci.media import sha256_digest

    old = variant(artifacts_json, metadata__product_version="1.0.0")
    _push(store, private_key, old)
    _to_prod(promoter, "v1.0.0")
    _push(store, private_key, variant(artifacts_json, metadata__product_version="1.1.0"), tag="v1.1.0")
    _to_prod(promoter, "v1.1.0")
    fake.tamper_blob(sha256_digest(old), old.replace(b"unit test product", b"unit test prodUct"))
    with pytest.raises(GateValidationError, match="was not rolled back") as exc:
        promoter.rollback(REPO, "prod")
    assert "was altered" in str(exc.value)
    assert exc.value.record.outcome == "rejected"


def test_audit_log_defaults_under_floe_home(_home: Path) -> None:
    assert default_audit_log() == _home / "audit" / "promotions.jsonl"


def test_audit_record_schema_is_strict() -> None:
    base = {"id": str(uuid.uuid4()), "action": "promote", "outcome": "promoted", "registry": "http://r",
            "repository": REPO, "tag": "v1", "digest": "sha256:" + "a" * 64, "source_env": "dev",
            "target_env": "staging", "operator": "me", "time": "2026-01-01T00:00:00+00:00", "gate_results": [],
            "trace_id": "0" * 32}
    record = AuditRecord.model_validate(base)
    assert json.loads(record.to_json())["schema"] == "floe.dev/promotion-record/v1"
    for bad in ({"digest": "sha256:xyz"}, {"trace_id": "XYZ"}, {"action": "delete"}, {"extra": 1}):
        with pytest.raises(ValueError):
            AuditRecord.model_validate({**base, **bad})
