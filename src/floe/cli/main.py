"""`floe` CLI. Heavy libraries (duckdb, dagster, dbt, pyiceberg) are imported inside commands only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from floe._version import __version__
from floe.errors import FloeError
from floe.plugins.registry import load_manifest

app = typer.Typer(
    name="floe",
    help="floe: declare a data platform once (manifest.yaml), ship data products (floe.yaml).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click help: rich's help renderer alone costs ~0.6 s of start-up
    rich_markup_mode=None,
)
plugins_app = typer.Typer(help="Discover and check plugins.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(plugins_app, name="plugins")


def _platform_app() -> typer.Typer:
    from floe.cli.platform import app as platform_app

    return platform_app


app.add_typer(_platform_app(), name="platform")


def _artifacts_app() -> typer.Typer:
    from floe.cli.artifacts import app as artifacts_app

    return artifacts_app


app.add_typer(_artifacts_app(), name="artifacts")


def _semantic_app() -> typer.Typer:
    from floe.cli.semantic import app as semantic_app

    return semantic_app


app.add_typer(_semantic_app(), name="semantic")

_state = {"debug": False}

ManifestOpt = Annotated[
    Path | None, typer.Option("--manifest", "-m", help="Platform manifest (default: floe.yaml's platform.manifest)")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"floe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _state["debug"] = debug


def _console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True)  # whole lines: output is grepped and piped


@app.command()
def compile(
    product: Annotated[Path, typer.Argument(help="Product folder or its floe.yaml")],
    manifest: ManifestOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder")] = None,
) -> None:
    """Validate, govern and compile a data product into CompiledArtifacts."""
    from rich.markup import escape

    from floe.compiler.stages import compile_pipeline
    from floe.telemetry import telemetry_session

    out = output or _output_dir(product, manifest)
    with telemetry_session():
        artifacts = compile_pipeline(product, manifest, output_dir=out)
    er = artifacts.enforcement_result
    console = _console()
    console.print(
        f"[green]compiled[/] {artifacts.metadata.product_name} {artifacts.metadata.product_version}: "
        f"{len(artifacts.transforms.models)} models, governance {er.enforcement_level.value} "
        f"({er.error_count} errors, {er.warning_count} warnings) -> {out}"
    )
    for v in er.violations:
        console.print(f"  [yellow]{v.severity}[/] {escape(f'{v.model}: [{v.rule}] {v.message}')}\n"
                      f"    fix: {escape(v.fix)}")


def _output_dir(product: Path, manifest: Path | None) -> Path:
    from floe.compiler.stages import output_location

    return output_location(product, manifest)[2]


@app.command()
def validate(
    product: Annotated[Path, typer.Argument(help="Product folder or its floe.yaml")],
    manifest: ManifestOpt = None,
) -> None:
    """Check a product against its manifest without writing anything."""
    from floe.compiler.stages import compile_pipeline

    artifacts = compile_pipeline(product, manifest)
    er = artifacts.enforcement_result
    _console().print(
        f"[green]valid[/] {artifacts.metadata.product_name}: {er.models_validated} models checked, "
        f"{er.error_count} errors, {er.warning_count} warnings ({er.enforcement_level.value})"
    )


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="manifest | floe | artifacts")] = "manifest",
) -> None:
    """Print the JSON Schema of manifest.yaml, floe.yaml or compiled_artifacts.json."""
    from floe.plugins.schema import json_schema

    typer.echo(json.dumps(json_schema(which), indent=2, sort_keys=True))


@plugins_app.command("list")
def plugins_list() -> None:
    """Every installed plugin, by type (discovered through entry points)."""
    from rich.table import Table

    from floe.plugins.registry import get_registry

    table = Table("type", "name", "implementation", "package")
    for ptype, infos in get_registry().list_all().items():
        for info in infos:
            table.add_row(ptype.value, info.name, info.value, info.distribution or "")
    _console().print(table)


@plugins_app.command("check")
def plugins_check(
    manifest: Annotated[Path | None, typer.Option("--manifest", "-m", help="Check as configured here")] = None,
    timeout: Annotated[float, typer.Option(help="Deadline per plugin, seconds")] = 5.0,
) -> None:
    """Health of every plugin within its deadline (configured ones against their services)."""
    from rich.table import Table

    from floe.plugins.registry import get_registry

    m = load_manifest(manifest) if manifest else None
    table = Table("type", "name", "state", "seconds", "message")
    reports = get_registry().health_check_all(m, timeout=timeout)
    for r in reports:
        color = {"healthy": "green", "degraded": "yellow", "unhealthy": "red"}.get(r.status.state.value, "dim")
        table.add_row(r.type.value, r.name, f"[{color}]{r.status.state.value}[/]", f"{r.seconds:.2f}",
                      r.status.message)
    _console().print(table)
    if m is not None and any(r.status.state.value == "unhealthy" for r in reports
                             if r.name in _configured_names(m, r.type)):
        raise typer.Exit(1)


def _configured_names(manifest: Any, ptype: Any) -> set[str]:
    from floe.plugins.registry import _configs

    return {c.type for c in _configs(manifest, ptype)}


@app.command()
def run(
    products: Annotated[list[Path], typer.Argument(help="Product folders (or their floe.yaml)")],
    manifest: ManifestOpt = None,
    platform: Annotated[bool, typer.Option("--platform", help="Launch on the local platform's Dagster")] = False,
    full_refresh: Annotated[list[str] | None, typer.Option(
        "--full-refresh", metavar="MODEL",
        help="Rebuild this model or seed from scratch and publish its new schema (dropped columns, changed "
             "types); older snapshots keep the old one. Repeatable; one product only")] = None,
    take_over: Annotated[bool, typer.Option(
        "--take-over", help="This folder takes the product's tables over from the folder that published "
                            "them (a product moved to another folder)")] = False,
) -> None:
    """Compile and run data products: in-process on the embedded default, one after the other; with
    --platform, launched together on the platform's Dagster."""
    from floe.app import run_on_platform, run_product
    from floe.errors import FloeError
    from floe.plugins.interfaces import RunOptions
    from floe.telemetry import telemetry_session

    if full_refresh and len(products) > 1:
        raise FloeError("--full-refresh names models of one product; this run has "
                        f"{len(products)} ({', '.join(str(p) for p in products)})",
                        hint="run the product with the model to refresh on its own")
    options = RunOptions(full_refresh=tuple(full_refresh or ()), take_over=take_over)
    with telemetry_session():  # the compile step's spans, like `floe compile`'s
        if platform:
            run_on_platform(products, manifest_path=manifest, console=_console(), options=options)
            return
        for product in products:
            run_product(product, manifest_path=manifest, console=_console(), options=options)


@app.command()
def demo(
    manifest: Annotated[
        Path, typer.Option("--manifest", "-m", help="Manifest to run on")
    ] = Path("demo/manifest.embedded.yaml"),
    products: Annotated[list[str] | None, typer.Option("--product", "-p", help="Only these products")] = None,
) -> None:
    """Compile and run the three demo products, then show every mart with its row count."""
    from floe.app import run_demo

    ok = run_demo(manifest, products=products, console=_console())
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        # without standalone mode click returns (not raises) a command's typer.Exit code
        result = app(standalone_mode=False)
        if isinstance(result, int) and result != 0:
            sys.exit(result)
    except FloeError as exc:
        if debug:
            raise
        from rich.console import Console

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print("[red]error:[/]", end=" ")
        err.print(str(exc), markup=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
