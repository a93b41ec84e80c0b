"""`floe semantic`: list and query a product's metrics. Heavy libraries load inside the commands."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from floe.plugins.semantic.query import QueryResult
    from floe.runtime.context import RunContext

app = typer.Typer(help="Metrics and dimensions over a product's marts (the floe.yaml `semantic:` section).",
                  no_args_is_help=True, rich_markup_mode=None)

ProductArg = Annotated[Path, typer.Argument(help="Product folder or its floe.yaml")]
ManifestOpt = Annotated[
    Path | None, typer.Option("--manifest", "-m", help="Platform manifest (default: floe.yaml's platform.manifest)")
]
FORMATS = ("table", "csv", "json")


def _context(product: Path, manifest: Path | None) -> RunContext:
    """Compile in memory (nothing written) and point at where `floe run` keeps the product's outputs."""
    from floe.compiler.stages import compile_pipeline, default_output_dir, resolve_spec_path
    from floe.config.loader import load_model
    from floe.config.spec import FloeSpec
    from floe.contract import ARTIFACTS_FILE
    from floe.plugins.registry import load_manifest
    from floe.runtime.context import RunContext

    spec_path = resolve_spec_path(product)
    if manifest is None:
        spec = load_model(spec_path, FloeSpec, forbid_infra_keys=True)
        manifest = (spec_path.parent / spec.platform.manifest).resolve()
    artifacts = compile_pipeline(spec_path, manifest)
    out = default_output_dir(spec_path, load_manifest(manifest))
    return RunContext(out / ARTIFACTS_FILE, artifacts)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@app.command()
def query(
    product: ProductArg,
    metric: Annotated[list[str], typer.Option("--metric", help="Metric name; repeat or comma-separate")],
    group_by: Annotated[list[str] | None, typer.Option(
        "--group-by", "-g", help="Dimension (time ones take __day, __month, ...), entity or metric_time")] = None,
    where: Annotated[list[str] | None, typer.Option(
        "--where", "-w", help="SQL condition over dimension names, e.g. \"segment = 'smb'\"; repeat to AND")] = None,
    order_by: Annotated[list[str] | None, typer.Option(
        "--order-by", help="Metric or group-by to sort on, '-' prefix for descending (default: the group-bys)")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="Print the SQL instead of running it")] = False,
    manifest: ManifestOpt = None,
) -> None:
    """Compute metrics over the product's Iceberg tables, grouped and filtered by its dimensions."""
    from floe.errors import FloeError
    from floe.plugins.semantic.query import QueryRequest

    if fmt not in FORMATS:
        raise FloeError(f"--format {fmt!r} is not known", hint=f"use one of: {', '.join(FORMATS)}")
    ctx = _context(product, manifest)
    request = QueryRequest(metrics=_split(metric), group_by=_split(group_by), where=list(where or []),
                           order_by=_split(order_by) if order_by else None, limit=limit)
    # the manifest's semantic layer answers (MetricFlow in this process; a plugin with its own service says so)
    layer = ctx.semantic_plugin()
    if explain:
        typer.echo(layer.explain(ctx, request))
        return
    _print(layer.query(ctx, request), fmt)


@app.command()
def serve(
    products: Annotated[list[Path], typer.Argument(help="Product folders, or their compiled_artifacts.json")],
    host: Annotated[str, typer.Option("--host", help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 4010,
    manifest: ManifestOpt = None,
) -> None:
    """Serve the products' metrics over HTTP (GET /health, GET /v1/meta, POST /v1/query).

    Every /v1 call is authenticated by the manifest's plugins.identity (static-token: `Authorization:
    Bearer $FLOE_SEMANTIC_TOKEN`; oidc: the issuer's ID token).
    """
    from floe.contract import ARTIFACTS_FILE
    from floe.runtime.context import RunContext
    from floe.semantic.server import serve as run_server

    contexts = [RunContext.load(p) if p.name == ARTIFACTS_FILE else _context(p, manifest) for p in products]
    typer.echo(f"semantic layer for {', '.join(c.artifacts.metadata.product_name for c in contexts)} "
               f"on http://{host}:{port}")
    run_server(contexts, host, port)


@app.command("list")
def list_(product: ProductArg, manifest: ManifestOpt = None) -> None:
    """The product's metrics and dimensions (what `query` accepts)."""
    from rich.console import Console
    from rich.table import Table

    ctx = _context(product, manifest)
    spec = ctx.artifacts.semantic
    console = Console()
    if spec is None:
        console.print(f"{ctx.artifacts.metadata.product_name}: no semantic section in floe.yaml")
        return
    metrics = Table("metric", "definition", "description", title=f"{ctx.artifacts.metadata.product_name}: metrics")
    for m in spec.metrics:
        if m.measure is not None:
            owner = spec.measure_owner(m.measure)
            x = next(x for x in owner.measures if x.name == m.measure)
            definition = f"{x.agg}({x.column or '*'}) over {owner.model}"
        else:
            definition = m.expression or ""
        metrics.add_row(m.name, definition, m.description)
    dims = Table("dimension", "type", "column", "model", "description", title="dimensions (--group-by, --where)")
    for model, d in spec.dimensions():
        kind = f"time ({d.grain})" if d.type == "time" else d.type
        dims.add_row(d.name, kind, d.column_name, model.model, d.description)
    for model in spec.models:
        for e in model.entities:
            dims.add_row(e.name, f"entity ({e.type})", e.column_name, model.model, e.description)
    console.print(metrics)
    console.print(dims)


def _print(result: QueryResult, fmt: str) -> None:
    if fmt == "json":
        from floe.semantic.server import json_value

        typer.echo(json.dumps(result.as_dicts(), default=json_value, indent=2))
    elif fmt == "csv":
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_text(v) for v in row] for row in result.rows])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*result.columns)
        numeric = [all(isinstance(r[i], int | float | decimal.Decimal) or r[i] is None for r in result.rows)
                   for i in range(len(result.columns))]
        for i, is_num in enumerate(numeric):
            if is_num:
                table.columns[i].justify = "right"
        for row in result.rows:
            table.add_row(*[_text(v) for v in row])
        console = Console()
        # Never cut a number short: widen past the terminal rather than print "12345…".
        console.width = max(console.width, Console(width=10_000).measure(table).maximum)
        console.print(table)
        typer.echo(f"{len(result.rows)} row(s)")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
