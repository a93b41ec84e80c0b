"""`floe platform ...`: the local platform's lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Run the local platform: real services as local processes.", no_args_is_help=True,
                  rich_markup_mode=None)

ManifestOpt = Annotated[Path, typer.Option("--manifest", "-m", help="Platform manifest")]
DEFAULT = Path("demo/manifest.yaml")


def _console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True)  # whole lines: output is grepped and piped


def _progress(console: Any) -> Any:
    colors = {"healthy": "green", "starting": "yellow", "failed": "red", "unhealthy": "red", "crashed": "red"}

    def show(name: str, state: str, message: str) -> None:
        from rich.markup import escape

        color = colors.get(state, "dim")
        console.print(f"  [{color}]{state:>9}[/] {name}  [dim]{escape(message)}[/]")

    return show


def _report(console: Any, rev: Any, steps: list[Any]) -> None:
    for s in steps:
        console.print(f"  bootstrap: {s.step}: {s.outcome}")
    console.print(f"[green]release revision {rev.revision}: {rev.status}[/] ({rev.description})")


@app.command()
def up(manifest: ManifestOpt = DEFAULT,
       timeout: Annotated[float | None, typer.Option(help="Seconds to wait for health")] = None) -> None:
    """Start every service, wait until healthy, bootstrap, record a release revision."""
    from floe.platform import controller

    console = _console()
    console.print(f"floe platform up ({manifest})")
    rev, steps = controller.up(manifest, timeout=timeout, on_change=_progress(console))
    _report(console, rev, steps)


@app.command()
def down() -> None:
    """Stop every service (data stays in $FLOE_HOME)."""
    from floe.platform import controller

    stopped = controller.down()
    _console().print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False) -> None:
    """Services, health, pids, ports and the release revision with its history."""
    from floe.platform import controller

    st = controller.status()
    if as_json:
        typer.echo(json.dumps(st, indent=2))
        return
    from rich.table import Table

    console = _console()
    rel = st["release"]
    revision = str(rel["revision"]) if rel else "-"
    table = Table("service", "state", "health", "pid", "port", "revision", "restarts",
                  title=f"floe platform ({st['home']})")
    for s in st["services"]:
        table.add_row(s["service"], s["state"], s["health"], str(s["pid"] or "-"), str(s["port"] or "-"),
                      revision, str(s["restarts"]))
    console.print(table)
    if rel and rel["stuck"]:
        console.print(f"[red]release revision {rel['revision']} is stuck in {rel['status']}: {rel['stuck']}[/]\n"
                      "  -> run `floe platform recover`")
    history = Table("revision", "status", "operation", "description", title="history")
    for r in st["history"][-10:]:
        history.add_row(str(r["revision"]), r["status"], r["operation"], r["description"])
    console.print(history)


@app.command()
def stop(services: Annotated[list[str], typer.Argument(help="Service names (see status)")]) -> None:
    """Stop services and keep them stopped (no restart) until `floe platform start`."""
    from floe.platform import controller

    controller.stop_services(services)
    _console().print(f"stopped: {', '.join(services)} (`floe platform start` brings them back)")


@app.command()
def start(services: Annotated[list[str], typer.Argument(help="Service names (see status)")]) -> None:
    """Start services stopped with `floe platform stop` and wait until they are healthy."""
    from floe.platform import controller

    controller.start_services(services)
    _console().print(f"healthy: {', '.join(services)}")


@app.command()
def logs(service: Annotated[str, typer.Argument(help="Service name (see status)")],
         lines: Annotated[int, typer.Option("-n", help="Lines")] = 100) -> None:
    """The last lines of a service's log."""
    from floe.platform import controller

    typer.echo(controller.logs(service, lines))


@app.command()
def bootstrap(manifest: ManifestOpt = DEFAULT) -> None:
    """Create and verify buckets, catalog and grants (idempotent)."""
    from floe.platform import controller

    console = _console()
    for s in controller.bootstrap(manifest):
        console.print(f"  {s.step}: {s.outcome}")


@app.command()
def upgrade(manifest: ManifestOpt = DEFAULT) -> None:
    """Apply a (changed) manifest as a new revision."""
    from floe.platform import controller

    console = _console()
    rev, steps = controller.up(manifest, operation="upgrade", on_change=_progress(console))
    _report(console, rev, steps)


@app.command()
def rollback(revision: Annotated[int | None, typer.Argument(help="Revision (default: last deployed)")] = None) -> None:
    """Re-apply an earlier revision's manifest as a new revision."""
    from floe.platform import controller

    console = _console()
    rev, steps = controller.rollback(revision, on_change=_progress(console))
    _report(console, rev, steps)


@app.command()
def recover() -> None:
    """Fail a stuck pending revision and roll back to the last deployed one."""
    from floe.platform import controller

    console = _console()
    failed, result = controller.recover(on_change=_progress(console))
    if failed is None and result is None:
        console.print("nothing to recover: the latest revision is not stuck")
        return
    if failed is not None:
        console.print(f"revision {failed.revision} marked failed ({failed.description})")
    rev, steps = result
    _report(console, rev, steps)


@app.command()
def deploy(
    target: Annotated[str, typer.Option("--target", help="Only `kubernetes` (the local platform is `up`)")],
    manifest: ManifestOpt = DEFAULT,
    values: Annotated[list[Path] | None, typer.Option("--values", "-f", help="Chart values files")] = None,
    release: Annotated[str, typer.Option(help="Helm release name")] = "floe-platform",
    namespace: Annotated[str, typer.Option(help="Kubernetes namespace")] = "floe",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render and validate only")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write rendered objects here")] = None,
) -> None:
    """Deploy the platform to Kubernetes with the floe-platform Helm chart."""
    from floe.errors import ConfigError
    from floe.k8s.deploy import deploy as run_deploy
    from floe.platform import controller

    if target != "kubernetes":
        raise ConfigError("unknown deploy target", key="--target", value=target, allowed="kubernetes",
                          hint="the local platform is started with `floe platform up`")
    from floe.compiler.stages import compile_pipeline

    m = controller.load_manifest(manifest)
    found = controller.discover_products(manifest, m)
    # compiled here (nothing written) so each plugin can add what it derives from them: per-product
    # grants and RBAC objects, the semantic layer's generated model
    compiled = [compile_pipeline(p, manifest) for p in found]
    result = run_deploy(manifest, m, [p.name for p in found], release=release, namespace=namespace,
                        values_files=values or [], dry_run=dry_run, output=output, compiled=compiled)
    console = _console()
    kinds: dict[str, int] = {}
    for obj in result.objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    console.print(f"rendered {len(result.objects)} objects: "
                  + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if result.written:
        console.print(f"written to {result.written}")
    for cmd in result.commands:
        console.print(f"ran: {' '.join(cmd)}")
