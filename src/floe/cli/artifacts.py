"""`floe artifacts ...`: compiled artifacts in an OCI registry, signed and promoted.

Settings come from the platform manifest's ``artifacts:`` section (``--manifest``, default
demo/manifest.yaml when present, else the built-in defaults): the registry URL (``--registry`` /
``FLOE_REGISTRY_URL`` override it), the credentials' secret references (default
``env:FLOE_REGISTRY_USER`` / ``env:FLOE_REGISTRY_PASSWORD``), the environments and their gates.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Push, pull, sign, verify and promote compiled artifacts (OCI registry).",
                  no_args_is_help=True, rich_markup_mode=None)

DEFAULT_MANIFEST = Path("demo/manifest.yaml")
LEGACY_CONFIG = "promotion.yaml"
ManifestOpt = Annotated[Path | None, typer.Option(
    "--manifest", "-m", help="Platform manifest whose `artifacts:` section configures registry and promotion "
                             f"(default {DEFAULT_MANIFEST} when present, else built-in defaults)")]
RegistryOpt = Annotated[str | None, typer.Option(
    "--registry", envvar="FLOE_REGISTRY_URL", help="Registry URL (default: the manifest's artifacts.registry.url)")]
UserRefOpt = Annotated[str | None, typer.Option(
    "--username-ref", help="Secret reference of the registry user (default: artifacts.registry.username)")]
PasswordRefOpt = Annotated[str | None, typer.Option(
    "--password-ref", help="Secret reference of the registry password (default: artifacts.registry.password)")]
AnonymousOpt = Annotated[bool, typer.Option("--anonymous", help="Send no credentials")]
KeyOpt = Annotated[Path | None, typer.Option(
    "--key", help="Ed25519 private key (default $FLOE_HOME/keys/floe-artifacts.key or FLOE_SIGNING_KEY)")]
PublicKeyOpt = Annotated[Path | None, typer.Option(
    "--public-key", help="Trusted public key (default $FLOE_HOME/keys/floe-artifacts.pub or FLOE_VERIFY_KEY)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class _Settings:
    """What `floe artifacts` reads from the manifest (built-in defaults without one)."""

    artifacts: Any
    """floe.config.artifacts.ArtifactsConfig"""
    registry_url: str
    secrets: Any = None
    """The manifest's secrets plugin (None: the env plugin)."""


def _settings(manifest: Path | None) -> _Settings:
    """Load ``artifacts:`` from ``manifest`` (default demo/manifest.yaml when it exists).

    Raises:
        ConfigError: the manifest is missing (when named) or invalid, or a legacy promotion.yaml
            still exists (its settings would be silently ignored).
    """
    from floe.config.artifacts import ArtifactsConfig
    from floe.errors import ConfigError
    from floe.home import Home
    from floe.oci.client import DEFAULT_REGISTRY

    legacy = Home.current().config / LEGACY_CONFIG
    if legacy.exists():
        raise ConfigError("promotion settings moved to manifest.yaml; this file is no longer read", file=legacy,
                          allowed="artifacts.promotion.{environments, audit_command, gate_timeout_seconds} in "
                                  "manifest.yaml",
                          hint=f"move its settings under artifacts.promotion in {manifest or DEFAULT_MANIFEST} "
                               "(audit_required_in: [prod] becomes `gates: {vulnerability_audit: required}` on "
                               "prod), then delete this file")
    path = manifest if manifest is not None else (DEFAULT_MANIFEST if DEFAULT_MANIFEST.exists() else None)
    if path is None:
        return _Settings(ArtifactsConfig(), DEFAULT_REGISTRY)
    from floe.plugins.registry import get_registry, load_manifest
    from floe.plugins.types import PluginType

    loaded = load_manifest(path)
    cfg = loaded.plugins.secrets
    return _Settings(loaded.artifacts, loaded.registry_url, get_registry().create(PluginType.SECRETS, cfg.type, cfg))


def _store(settings: _Settings, registry: str | None, username_ref: str | None, password_ref: str | None,
           anonymous: bool) -> Any:
    from floe.oci.client import ArtifactStore, RegistryClient, resolve_credentials

    reg = settings.artifacts.registry
    credentials = None if anonymous else resolve_credentials(
        username_ref or str(reg.username), password_ref or str(reg.password), settings.secrets)
    return ArtifactStore(RegistryClient(registry or settings.registry_url, credentials),
                         settings.artifacts.promotion.env_tuple)


def _public_key(path: Path | None) -> Any:
    from floe.oci.signing import default_public_key_path, load_public_key

    return load_public_key(path or default_public_key_path())


def _ref(text: str) -> Any:
    from floe.oci.tags import ArtifactRef

    return ArtifactRef.parse(text)


@app.command()
def keygen(
    key: KeyOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key")] = False,
) -> None:
    """Create an Ed25519 signing key pair (private key mode 0600, public key next to it as .pub)."""
    from floe.oci.signing import default_key_path, generate_keypair

    pair = generate_keypair(key or default_key_path(), force=force)
    _console().print(f"[green]created[/] {pair.key_id}\n  private key: {pair.private_path} (0600, keep it secret)\n"
                     f"  public key:  {pair.public_path} (give it to whoever pulls)")


@app.command()
def push(
    source: Annotated[Path, typer.Argument(help="compiled_artifacts.json, or the folder holding it")],
    reference: Annotated[str, typer.Argument(help="repository:tag, e.g. floe/customer-360:v1.0.0")],
    sign: Annotated[bool, typer.Option("--sign/--no-sign", help="Sign after pushing")] = True,
    key: KeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Push compiled artifacts under an immutable tag and sign them."""
    from floe.oci.client import read_artifacts_file
    from floe.oci.signing import default_key_path, load_private_key

    ref = _ref(reference)
    content = read_artifacts_file(source)
    signing_key = load_private_key(key or default_key_path()) if sign else None
    store = _store(_settings(manifest), registry, username_ref, password_ref, False)
    result = store.push(ref, content, signing_key=signing_key)
    if as_json:
        typer.echo(json.dumps({"reference": str(ref), "digest": result.digest, "size": result.size,
                               "created": result.created, "signed_by": result.signed_by}))
        return
    what = "pushed" if result.created else "unchanged (same content already at this tag)"
    signed = f"signed by {result.signed_by}" if result.signed_by else "[yellow]unsigned[/] (pull will refuse it)"
    _console().print(f"[green]{what}[/] {ref} {result.digest} ({result.size} bytes, {signed})")


@app.command()
def pull(
    reference: Annotated[str, typer.Argument(help="repository:tag or repository@sha256:...")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File, or existing folder")] = Path(
        "compiled_artifacts.json"),
    insecure_skip_verify: Annotated[bool, typer.Option(
        "--insecure-skip-verify", help="Do NOT check the signature (debugging only)")] = False,
    public_key: PublicKeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    anonymous: AnonymousOpt = False,
) -> None:
    """Pull compiled artifacts; refuse unsigned, wrongly signed or altered content."""
    from floe.contract import ARTIFACTS_FILE

    ref = _ref(reference)
    store = _store(_settings(manifest), registry, username_ref, password_ref, anonymous)
    if insecure_skip_verify:
        _console(stderr=True).print(
            f"[bold red]WARNING: --insecure-skip-verify: the signature of {ref} is NOT checked; "
            "this content is unauthenticated and may have been replaced. Never use this in CI or prod.[/]")
    fetched = store.pull(ref, None if insecure_skip_verify else _public_key(public_key),
                         verify=not insecure_skip_verify)
    target = output / ARTIFACTS_FILE if output.is_dir() else output
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(fetched.content)
    tmp.replace(target)
    v = fetched.verification
    status = f"signature {v.status}: {v.message}" if v else ""
    _console().print(f"[green]pulled[/] {ref} {fetched.digest} -> {target} ({status})")


@app.command()
def verify(
    reference: Annotated[str, typer.Argument(help="repository:tag or repository@sha256:...")],
    public_key: PublicKeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    anonymous: AnonymousOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Report whether an artifact is validly signed and intact (exit 11 when it is not)."""
    ref = _ref(reference)
    store = _store(_settings(manifest), registry, username_ref, password_ref, anonymous)
    result = store.verify(ref, _public_key(public_key))
    if as_json:
        typer.echo(json.dumps({"reference": str(ref), **result.to_json()}))
    else:
        color = "green" if result.ok else "red"
        _console().print(f"[{color}]{result.status}[/] {ref} {result.digest or ''}: {result.message}", markup=True)
    if not result.ok:
        from floe.oci.client import raise_for

        raise_for(ref, result)  # exit 11 with the reason on stderr


@app.command()
def sign(
    reference: Annotated[str, typer.Argument(help="repository:tag to sign (what it points at now)")],
    key: KeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
) -> None:
    """Sign an artifact that is already in the registry."""
    from floe.oci.signing import default_key_path, load_private_key

    ref = _ref(reference)
    private = load_private_key(key or default_key_path())
    digest, kid = _store(_settings(manifest), registry, username_ref, password_ref, False).sign(ref, private)
    _console().print(f"[green]signed[/] {ref} {digest} with {kid}")


@app.command()
def inspect(
    reference: Annotated[str, typer.Argument(help="repository:tag or repository@sha256:...")],
    public_key: PublicKeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    anonymous: AnonymousOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Digest, type, size, annotations, layers, signature and promotion status."""
    from floe.oci.signing import default_public_key_path

    ref = _ref(reference)
    key_path = public_key or default_public_key_path()
    key = _public_key(key_path) if public_key or key_path.exists() else None
    info = _store(_settings(manifest), registry, username_ref, password_ref, anonymous).inspect(ref, key)
    if as_json:
        typer.echo(json.dumps(info.to_json(), indent=2, sort_keys=True))
        return
    from rich.markup import escape

    console = _console()
    console.print(f"[bold]{escape(str(ref))}[/]\n  digest:        {info.digest}\n"
                  f"  artifact type: {info.artifact_type}\n"
                  f"  size:          {info.size} bytes\n  signature:     {info.signature.status} "
                  f"({escape(info.signature.message)})\n  environments:  {', '.join(info.environments) or '-'}\n"
                  f"  tags:          {', '.join(info.tags) or '-'}")
    for k, v in sorted(info.annotations.items()):
        console.print(f"  {escape(k)}: {escape(v)}")
    for layer in info.layers:
        console.print(f"  layer {layer.media_type} {layer.digest} ({layer.size} bytes)")


def _promoter(manifest: Path | None, public_key: Path | None, registry: str | None, username_ref: str | None,
              password_ref: str | None) -> Any:
    from floe.oci.promotion import Promoter

    settings = _settings(manifest)
    return Promoter(_store(settings, registry, username_ref, password_ref, False),
                    config=settings.artifacts.promotion,
                    public_key=_public_key(public_key))


def _print_record(record: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(record.to_json())
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("gate", "status", "ms", "detail / error", title=f"{record.action} {record.outcome}")
    colors = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for g in record.gate_results:
        table.add_row(g.gate, f"[{colors[g.status]}]{g.status}[/]", f"{g.duration_ms:.1f}",
                      escape(g.error or g.detail))
    console = _console()
    console.print(table)
    console.print(f"  {record.repository} {record.tag or ''} {record.digest}: {record.source_env} -> "
                  f"{record.target_env}\n  audit record {record.id} (trace {record.trace_id}, operator "
                  f"{escape(record.operator)})")


@app.command()
def promote(
    reference: Annotated[str, typer.Argument(help="repository:tag to promote")],
    to: Annotated[str, typer.Option("--to", help="Target environment (one step forward)")],
    source: Annotated[str | None, typer.Option("--from", help="Expected current environment")] = None,
    operator: Annotated[str | None, typer.Option(help="Who promotes (default $FLOE_OPERATOR or user@host)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Run the gates, change nothing")] = False,
    public_key: PublicKeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Promote an artifact one environment forward (dev -> staging -> prod) after its gates pass."""
    from floe.oci.errors import GateValidationError
    from floe.telemetry import telemetry_session

    promoter = _promoter(manifest, public_key, registry, username_ref, password_ref)
    with telemetry_session():
        try:
            record = promoter.promote(_ref(reference), to, source=source, operator=operator, dry_run=dry_run)
        except GateValidationError as exc:
            if exc.record is not None:
                _print_record(exc.record, as_json)
            raise
    _print_record(record, as_json)


@app.command()
def rollback(
    repository: Annotated[str, typer.Argument(help="Repository, e.g. floe/customer-360")],
    env: Annotated[str, typer.Option("--env", help="Environment to roll back")],
    to: Annotated[str | None, typer.Option("--to", help="Tag or digest promoted there before (default: the "
                                                        "previous one)")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit record)")] = None,
    operator: Annotated[str | None, typer.Option(help="Who rolls back (default $FLOE_OPERATOR or user@host)")] = None,
    public_key: PublicKeyOpt = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point an environment back at a version that was promoted there before."""
    from floe.oci.tags import validate_repository
    from floe.telemetry import telemetry_session

    promoter = _promoter(manifest, public_key, registry, username_ref, password_ref)
    with telemetry_session():
        record = promoter.rollback(validate_repository(repository), env, to=to, reason=reason, operator=operator)
    _print_record(record, as_json)


@app.command()
def history(
    repository: Annotated[str, typer.Argument(help="Repository, e.g. floe/customer-360")],
    env: Annotated[str | None, typer.Option("--env", help="Only this environment")] = None,
    manifest: ManifestOpt = None,
    registry: RegistryOpt = None,
    username_ref: UserRefOpt = None,
    password_ref: PasswordRefOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Promotion and rollback audit records stored in the registry, oldest first."""
    from floe.oci.promotion import Promoter
    from floe.oci.tags import validate_repository

    settings = _settings(manifest)
    promoter = Promoter(_store(settings, registry, username_ref, password_ref, False),
                        config=settings.artifacts.promotion)
    records = [r for r in promoter.history(validate_repository(repository)) if env in (None, r.target_env)]
    if as_json:
        typer.echo(json.dumps([json.loads(r.to_json()) for r in records], indent=2))
        return
    from rich.table import Table

    table = Table("time", "action", "outcome", "env", "tag", "digest", "operator", "id")
    for r in records:
        env_text = f"{r.source_env} -> {r.target_env}" if r.action == "promote" else r.target_env
        table.add_row(r.time[:19], r.action, r.outcome, env_text, r.tag or "-", r.digest[:19], r.operator, r.id)
    _console().print(table)


def _main() -> None:
    """``python -m floe.cli.artifacts ...``: `floe artifacts ...` with the CLI's error handling."""
    from floe.cli import main as cli

    if not any(group.name == "artifacts" for group in cli.app.registered_groups):
        cli.app.add_typer(app, name="artifacts")
    sys.argv[1:1] = ["artifacts"]
    cli.main()


if __name__ == "__main__":
    _main()
