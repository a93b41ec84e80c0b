"""Promotion of signed artifacts through environments (dev -> staging -> prod), gates and audit.

An artifact pushed as ``v1.0.0`` is in the first environment. Promoting it to ``staging`` adds the
tag ``v1.0.0-staging`` (what was ever promoted there) and moves ``env-staging`` (what staging runs
now), both at the same digest. Rollback moves ``env-<env>`` back to a digest promoted there before.
Every promotion, rejected promotion and rollback leaves an audit record in the registry (tag
``audit-<id>``, a small artifact whose subject is the promoted manifest) and a line in
``$FLOE_HOME/audit/promotions.jsonl``.

Environments, their gates and the audit command are manifest.yaml's ``artifacts.promotion``
(:mod:`floe.config.artifacts`).
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError

from floe.config.artifacts import PromotionConfig
from floe.contract import FloeModel
from floe.errors import ServiceError
from floe.oci.errors import (
    ArtifactError,
    GateValidationError,
    InvalidReferenceError,
    InvalidTransitionError,
    TamperedArtifactError,
)
from floe.oci.media import AUDIT_RECORD_TYPE, EMPTY_CONFIG, OCI_EMPTY, OCI_MANIFEST, Descriptor, Manifest
from floe.oci.signing import VerificationResult
from floe.oci.tags import (
    AUDIT_TAG_PREFIX,
    DEFAULT_ENVIRONMENTS,
    ArtifactRef,
    audit_tag,
    environment_tag,
    promotion_tag,
    validate_tag,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from floe.oci.client import ArtifactStore, FetchedArtifact

RECORD_SCHEMA = "floe.dev/promotion-record/v1"


# -- transitions --------------------------------------------------------------------------------------
def check_transition(source: str, target: str, environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS) -> None:
    """Allow exactly one step forward; name the forbidden transition otherwise.

    Raises:
        InvalidTransitionError: unknown environment, no-op, backwards or skipping transition.
    """
    chain = " -> ".join(environments)
    for env in (source, target):
        if env not in environments:
            raise InvalidTransitionError(f"unknown environment {env!r} in {source} -> {target}",
                                         hint=f"environments, in promotion order: {chain}")
    i, j = environments.index(source), environments.index(target)
    if j == i:
        raise InvalidTransitionError(f"{source} -> {target}: the artifact is already in {target}",
                                     hint=f"promotion moves one step forward: {chain}")
    if j < i:
        raise InvalidTransitionError(f"{source} -> {target} goes backwards (promotion only moves forward: {chain})",
                                     hint=f"to undo a promotion use `floe artifacts rollback --env {source}`")
    if j > i + 1:
        skipped = ", ".join(environments[i + 1:j])
        raise InvalidTransitionError(f"{source} -> {target} skips {skipped}",
                                     hint=f"promote to {environments[i + 1]} first ({chain})")


# -- gates --------------------------------------------------------------------------------------------
GateStatus = Literal["passed", "failed", "skipped"]


class GateResult(FloeModel):
    gate: str
    status: GateStatus
    duration_ms: Annotated[float, Field(ge=0)]
    error: str | None = None
    detail: str = ""


class GateFailed(Exception):
    """Raised by a gate to fail with this message."""


class GateSkipped(Exception):
    """Raised by a gate that does not apply (recorded as skipped, never blocks)."""


@dataclass(frozen=True)
class GateContext:
    """What a gate may look at: the artifact (bytes already checked against their digests)."""

    ref: ArtifactRef
    digest: str
    source_env: str
    target_env: str
    content: bytes | None
    fetch_error: str | None
    verification: VerificationResult | None
    config: PromotionConfig


Gate = Callable[[GateContext], "str | None"]
"""Returns a short detail; raises GateFailed / GateSkipped. Any other exception fails the gate."""


def _compiled(ctx: GateContext) -> Any:
    from floe.contract import CompiledArtifacts

    if ctx.content is None:
        raise GateFailed(f"content unavailable: {ctx.fetch_error}")
    try:
        return CompiledArtifacts.model_validate_json(ctx.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise GateFailed(f"not valid CompiledArtifacts ({exc.error_count()} error(s); first: "
                         f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']})") from None


def compiles_gate(ctx: GateContext) -> str:
    """The artifact validates as CompiledArtifacts."""
    artifacts = _compiled(ctx)
    return f"{artifacts.metadata.product_name} {artifacts.metadata.product_version}"


def tests_gate(ctx: GateContext) -> str:
    """Governance and tests passed at compile time (``enforcement_result.passed``)."""
    er = _compiled(ctx).enforcement_result
    if not er.passed:
        raise GateFailed(f"enforcement_result.passed is false ({er.error_count} error(s), "
                         f"{er.enforcement_level.value} enforcement)")
    return f"{er.models_validated} models, {er.error_count} errors, {er.warning_count} warnings"


def signature_gate(ctx: GateContext) -> str:
    """The signature is valid for this digest, repository, tag and the trusted key."""
    v = ctx.verification
    if v is None:
        raise GateFailed("no public key to verify with (pass --public-key or set FLOE_VERIFY_KEY)")
    if not v.ok:
        raise GateFailed(f"{v.status}: {v.message}")
    return v.message


class CommandAudit:
    """The default vulnerability audit: run a command; exit 0 passes, anything else fails.

    Args:
        command: argv (no shell); ``{path}``, ``{digest}`` and ``{ref}`` are substituted.
        timeout: seconds before the command is killed and the gate fails.
    """

    def __init__(self, command: list[str], timeout: float = 300.0) -> None:
        self.command = list(command)
        self.timeout = timeout

    def __call__(self, ctx: GateContext) -> str:
        if ctx.content is None:
            raise GateFailed(f"content unavailable: {ctx.fetch_error}")
        with tempfile.TemporaryDirectory(prefix="floe-audit-") as tmp:
            path = Path(tmp) / "compiled_artifacts.json"
            path.write_bytes(ctx.content)
            values = {"path": str(path), "digest": ctx.digest, "ref": str(ctx.ref)}
            argv = [arg.replace("{path}", values["path"]).replace("{digest}", values["digest"])
                    .replace("{ref}", values["ref"]) for arg in self.command]
            env = {**os.environ, "FLOE_ARTIFACT_PATH": values["path"], "FLOE_ARTIFACT_DIGEST": ctx.digest,
                   "FLOE_ARTIFACT_REF": values["ref"]}
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, env=env, check=False)
            except FileNotFoundError:
                raise GateFailed(f"audit command not found: {argv[0]!r}") from None
            except subprocess.TimeoutExpired:
                raise GateFailed(f"audit command {argv[0]!r} timed out after {self.timeout:g}s") from None
            except OSError as exc:
                raise GateFailed(f"audit command {argv[0]!r} could not start: {exc.strerror}") from None
        if r.returncode != 0:
            tail = (r.stderr.strip() or r.stdout.strip())[-500:]
            raise GateFailed(f"audit command {argv[0]!r} exited {r.returncode}" + (f": {tail}" if tail else ""))
        return f"{argv[0]} exited 0"


def _no_audit(ctx: GateContext) -> str:
    if ctx.config.gates_for(ctx.target_env).vulnerability_audit == "required":
        raise GateFailed(f"no audit command configured, and promotions into {ctx.target_env} require one "
                         "(set artifacts.promotion.audit_command in manifest.yaml)")
    raise GateSkipped("no audit command configured (set artifacts.promotion.audit_command in manifest.yaml)")


def _switched_off(environment: str) -> Gate:
    def gate(ctx: GateContext) -> str:
        raise GateSkipped(f"off for {environment} (manifest.yaml artifacts.promotion.environments)")

    return gate


def run_gates(ctx: GateContext, gates: list[tuple[str, Gate]]) -> list[GateResult]:
    """Run every gate (also after a failure, so the record shows all of them), timing each."""
    results = []
    for name, gate in gates:
        start = time.perf_counter()
        status: GateStatus = "passed"
        error = None
        detail = ""
        try:
            detail = gate(ctx) or ""
        except GateFailed as exc:
            status, error = "failed", str(exc)
        except GateSkipped as exc:
            status, detail = "skipped", str(exc)
        except Exception as exc:  # a crashing gate blocks; it must never pass by accident
            status, error = "failed", f"gate crashed: {type(exc).__name__}: {exc}"
        results.append(GateResult(gate=name, status=status, error=error, detail=detail,
                                  duration_ms=round((time.perf_counter() - start) * 1000, 3)))
    return results


# -- audit records ------------------------------------------------------------------------------------
Action = Literal["promote", "rollback"]
Outcome = Literal["promoted", "rolled_back", "rejected", "dry_run"]


class AuditRecord(FloeModel):
    schema_: Literal["floe.dev/promotion-record/v1"] = Field(default="floe.dev/promotion-record/v1", alias="schema")
    id: str
    action: Action
    outcome: Outcome
    registry: str
    repository: str
    tag: str | None
    digest: Annotated[str, Field(pattern=r"^sha256:[a-f0-9]{64}$")]
    previous_digest: str | None = None
    """For a rollback: what the environment ran before."""
    source_env: str
    target_env: str
    operator: str
    time: str
    gate_results: list[GateResult]
    trace_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    reason: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def default_audit_log() -> Path:
    from floe.home import Home

    return Home.current().root / "audit" / "promotions.jsonl"


class AuditLog:
    """Append-only JSON lines, one record per promotion or rollback."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_audit_log()

    def append(self, record: AuditRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(record.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> list[AuditRecord]:
        if not self.path.exists():
            return []
        return [AuditRecord.model_validate_json(line) for line in self.path.read_text().splitlines() if line.strip()]


def default_operator() -> str:
    return os.environ.get("FLOE_OPERATOR") or f"{getpass.getuser()}@{socket.gethostname()}"


@contextmanager
def _span(name: str, attributes: dict[str, str]) -> Iterator[str]:
    """A span around the operation; yields its trace id (or a fresh one when tracing is off)."""
    from opentelemetry import trace

    with trace.get_tracer("floe.oci").start_as_current_span(name, attributes=attributes) as span:
        ctx = span.get_span_context()
        yield format(ctx.trace_id, "032x") if ctx.is_valid else secrets.token_hex(16)


# -- the controller -----------------------------------------------------------------------------------
class Promoter:
    """Promote and roll back artifacts of one registry.

    Args:
        store: the registry.
        config: environments, their gates and the audit command (manifest.yaml ``artifacts.promotion``).
        public_key: the trusted signer's key (the signature gate fails without it).
        audit_log: where local records go (default ``$FLOE_HOME/audit/promotions.jsonl``).
        vulnerability_audit: replaces the command audit (any ``Gate`` callable).
    """

    def __init__(self, store: ArtifactStore, *, config: PromotionConfig | None = None,
                 public_key: Ed25519PublicKey | None = None, audit_log: AuditLog | None = None,
                 vulnerability_audit: Gate | None = None) -> None:
        self.store = store
        self.config = config or PromotionConfig()
        self.environments = self.config.env_tuple
        store.environments = self.environments
        self.public_key = public_key
        self.audit_log = audit_log or AuditLog()
        if vulnerability_audit is None:
            cmd = self.config.audit_command
            vulnerability_audit = CommandAudit(cmd, self.config.gate_timeout_seconds) if cmd else _no_audit
        self.gates: list[tuple[str, Gate]] = [
            ("compiles", compiles_gate),
            ("tests_passed", tests_gate),
            ("signature", signature_gate),
            ("vulnerability_audit", vulnerability_audit),
        ]

    def gates_for(self, target: str) -> list[tuple[str, Gate]]:
        """The gates of a promotion into ``target``: those the manifest switches off there are skipped
        (and recorded as skipped)."""
        gates = self.config.gates_for(target)
        off = {"tests_passed": not gates.tests_passed, "vulnerability_audit": gates.vulnerability_audit == "off"}
        return [(name, _switched_off(target) if off.get(name) else gate) for name, gate in self.gates]

    @property
    def client(self) -> Any:
        return self.store.client

    def environment_of(self, repository: str, tag: str, digest: str) -> str:
        """The furthest environment ``tag`` was promoted to (the first one when never promoted)."""
        existing = set(self.client.tags(repository))
        for env in reversed(self.environments[1:]):
            ptag = promotion_tag(tag, env)
            if ptag in existing and self.client.resolve(repository, ptag) == digest:
                return env
        return self.environments[0]

    def promote(self, ref: ArtifactRef, target: str, *, source: str | None = None, operator: str | None = None,
                dry_run: bool = False) -> AuditRecord:
        """Promote ``ref`` one environment forward after every gate passed.

        Raises:
            InvalidTransitionError: unknown environment, backwards, skipping, or ``source`` is wrong.
            GateValidationError: a gate failed (a ``rejected`` record was still written).
        """
        if ref.tag is None:
            raise InvalidReferenceError(f"promote a tag, not a digest ({ref})",
                                        hint="promotion tags are named after the tag: <tag>-<env>")
        for env in (target, source):
            if env is not None and env not in self.environments:
                raise InvalidTransitionError(f"unknown environment {env!r}",
                                             hint=f"environments, in promotion order: {' -> '.join(self.environments)}")
        promotion_tag(ref.tag, target)  # the derived tag must be a valid tag too
        digest = self.client.resolve(ref.repository, ref.tag)
        if digest is None:
            raise ArtifactError(f"{ref} does not exist in {self.client.url}",
                                hint="push it first: `floe artifacts push`")
        current = self.environment_of(ref.repository, ref.tag, digest)
        if source is not None and source != current:
            raise InvalidTransitionError(f"{source} -> {target}: {ref} is in {current}, not {source}",
                                         hint=f"promote from {current}")
        check_transition(current, target, self.environments)
        operator = operator or default_operator()
        with _span("floe.artifacts.promote", {"floe.artifact.repository": ref.repository,
                                              "floe.artifact.tag": ref.tag, "floe.artifact.digest": digest,
                                              "floe.promotion.source": current,
                                              "floe.promotion.target": target}) as trace_id:
            fetched, ctx = self._context(ref, digest, current, target)
            results = run_gates(ctx, self.gates_for(target))
            failed = [r for r in results if r.status == "failed"]
            outcome: Outcome = "dry_run" if dry_run else ("rejected" if failed else "promoted")
            record = self._record("promote", outcome, ref.repository, ref.tag, digest, current, target, operator,
                                  results, trace_id)
            if dry_run:
                return record
            if not failed and fetched is not None:
                # the manifest bytes just verified against `digest`: same bytes, same digest
                self.client.put_manifest(ref.repository, promotion_tag(ref.tag, target), fetched.manifest_bytes)
                self.client.put_manifest(ref.repository, environment_tag(target), fetched.manifest_bytes)
            self._persist(record, fetched)
        if failed:
            names = ", ".join(f"{r.gate} ({r.error})" for r in failed)
            raise GateValidationError(f"{ref} was not promoted {current} -> {target}: gate(s) failed: {names}",
                                      failed=failed, record=record,
                                      hint=f"audit record {record.id} lists every gate")
        return record

    def rollback(self, repository: str, environment: str, *, to: str | None = None, reason: str | None = None,
                 operator: str | None = None) -> AuditRecord:
        """Point ``env-<environment>`` back at a digest promoted there before.

        Args:
            to: a tag (``v1.0.0``, which must have been promoted there) or a digest; default: the
                version promoted there before the current one.

        Raises:
            InvalidTransitionError: unknown environment or the first one (nothing is promoted into it).
            ArtifactError: nothing promoted there yet, no earlier version, or ``to`` never promoted there.
        """
        if environment not in self.environments[1:]:
            raise InvalidTransitionError(
                f"cannot roll back {environment!r}: "
                + ("artifacts are pushed into it, not promoted" if environment == self.environments[0]
                   else "unknown environment"),
                hint=f"environments that can be rolled back: {', '.join(self.environments[1:])}")
        pointer = environment_tag(environment)
        current = self.client.resolve(repository, pointer)
        if current is None:
            raise ArtifactError(f"nothing has been promoted to {environment} in {repository} (no tag {pointer})")
        promoted = [r for r in self.history(repository)
                    if r.action == "promote" and r.outcome == "promoted" and r.target_env == environment]
        target, tag = self._rollback_target(repository, environment, current, promoted, to)
        operator = operator or default_operator()
        with _span("floe.artifacts.rollback", {"floe.artifact.repository": repository,
                                               "floe.artifact.digest": target,
                                               "floe.promotion.environment": environment}) as trace_id:
            ref = ArtifactRef(repository, digest=target)
            fetched, ctx = self._context(ref, target, environment, environment)
            results = run_gates(ctx, [g for g in self.gates if g[0] in {"compiles", "signature"}])
            failed = [r for r in results if r.status == "failed"]
            record = self._record("rollback", "rejected" if failed else "rolled_back", repository, tag, target,
                                  environment, environment, operator, results, trace_id, reason=reason,
                                  previous_digest=current)
            if not failed and fetched is not None:
                self.client.put_manifest(repository, pointer, fetched.manifest_bytes)
            self._persist(record, fetched)
        if failed:
            names = ", ".join(f"{r.gate} ({r.error})" for r in failed)
            raise GateValidationError(f"{environment} was not rolled back to {target}: gate(s) failed: {names}",
                                      failed=failed, record=record)
        return record

    def _rollback_target(self, repository: str, environment: str, current: str, promoted: list[AuditRecord],
                         to: str | None) -> tuple[str, str | None]:
        tags = {r.digest: r.tag for r in promoted}
        if to is None:
            order = [r.digest for r in promoted]
            last = max((i for i, d in enumerate(order) if d == current), default=len(order))
            earlier = [d for d in reversed(order[:last]) if d != current]
            if not earlier:
                raise ArtifactError(f"{environment} runs {current}; {repository} has no earlier version promoted "
                                    f"to {environment} to roll back to",
                                    hint="`floe artifacts history` lists the promotions")
            return earlier[0], tags.get(earlier[0])
        if to.startswith("sha256:"):
            target, tag = to, tags.get(to)
            if target not in tags:
                raise ArtifactError(f"{to} was never promoted to {environment} in {repository}",
                                    hint="roll back only to a version that ran there (`floe artifacts history`)")
        else:
            tag = validate_tag(to)
            found = self.client.resolve(repository, promotion_tag(tag, environment))
            if found is None:
                raise ArtifactError(f"{tag} was never promoted to {environment} in {repository} "
                                    f"(no tag {promotion_tag(tag, environment)})",
                                    hint="roll back only to a version that ran there (`floe artifacts history`)")
            target = found
        if target == current:
            raise ArtifactError(f"{environment} already runs {target}" + (f" ({tag})" if tag else ""))
        return target, tag

    def _context(self, ref: ArtifactRef, digest: str, source: str, target: str
                 ) -> tuple[FetchedArtifact | None, GateContext]:
        fetched = None
        error = None
        verification = None
        try:
            fetched = self.store.fetch(ArtifactRef(ref.repository, digest=digest))
        except ArtifactError as exc:  # tampered or not floe's artifact type: the gates fail with the reason
            error = exc.message
            if isinstance(exc, TamperedArtifactError):
                verification = VerificationResult("tampered", exc.message, digest)
        if fetched is not None and self.public_key is not None:
            verification = self.store.check_signature(ref, digest, self.public_key)
        return fetched, GateContext(ref, digest, source, target, fetched.content if fetched else None, error,
                                    verification, self.config)

    def _record(self, action: Action, outcome: Outcome, repository: str, tag: str | None, digest: str, source: str,
                target: str, operator: str, results: list[GateResult], trace_id: str, *,
                reason: str | None = None, previous_digest: str | None = None) -> AuditRecord:
        return AuditRecord(id=str(uuid.uuid4()), action=action, outcome=outcome, registry=self.client.url,
                           repository=repository, tag=tag, digest=digest, previous_digest=previous_digest,
                           source_env=source, target_env=target, operator=operator,
                           time=datetime.now(UTC).isoformat(timespec="microseconds"), gate_results=results,
                           trace_id=trace_id, reason=reason)

    def _persist(self, record: AuditRecord, fetched: FetchedArtifact | None) -> None:
        """Local log first (cannot be lost to a registry outage), then the registry copy."""
        self.audit_log.append(record)
        body = record.to_json().encode()
        try:
            layer = self.client.push_blob(record.repository, body, AUDIT_RECORD_TYPE, check_exists=False)
            self.client.push_blob(record.repository, EMPTY_CONFIG, OCI_EMPTY)
            subject = Descriptor(OCI_MANIFEST, record.digest, len(fetched.manifest_bytes)) if fetched else None
            manifest = Manifest(AUDIT_RECORD_TYPE, (layer,), {
                "dev.floe.audit.action": record.action, "dev.floe.audit.outcome": record.outcome,
                "dev.floe.audit.target-env": record.target_env, "dev.floe.audit.time": record.time,
            }, subject=subject)
            self.client.put_manifest(record.repository, audit_tag(record.id), manifest.to_bytes())
        except ServiceError as exc:
            raise ServiceError(f"{record.action} {record.outcome} but its audit record {record.id} could not be "
                               f"stored in the registry: {exc.message}",
                               hint=f"the record is in {self.audit_log.path}; re-run when the registry is back"
                               ) from exc

    def history(self, repository: str) -> list[AuditRecord]:
        """Every audit record stored in the registry for ``repository``, oldest first."""
        records = []
        for tag in self.client.tags(repository):
            if not tag.startswith(AUDIT_TAG_PREFIX):
                continue
            data, _ = self.client.manifest(repository, tag)
            manifest = Manifest.from_bytes(data, f"{repository}:{tag}")
            if manifest.artifact_type != AUDIT_RECORD_TYPE:
                continue
            layer = manifest.single_layer(AUDIT_RECORD_TYPE, f"{repository}:{tag}")
            records.append(AuditRecord.model_validate_json(self.client.blob(repository, layer.digest)))
        return sorted(records, key=lambda r: (r.time, r.id))
