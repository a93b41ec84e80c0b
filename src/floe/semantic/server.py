"""`floe semantic serve`: the semantic layer as a service, answering metric queries over HTTP.

One process serves every product deployed on the platform, from their compiled artifacts (the same
files Dagster loads). MetricFlow plans each query and DuckDB computes it over the product's Iceberg
marts, read with the product's own catalog principal.

    GET  /health                    no auth; 200 when every product is loaded and the catalog answers
    GET  /v1/meta                   products with their metrics and dimensions
    POST /v1/query                  {"product", "metrics", "group_by", "where", "order_by", "limit"}

Every /v1 call needs ``Authorization: Bearer <token>`` (the manifest's ``semantic_layer.api_token``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hmac
import json
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from floe.runtime.context import RunContext

TOKEN_ENV = "FLOE_SEMANTIC_TOKEN"  # noqa: S105 - the name of the variable, not a token


def json_value(value: Any) -> Any:
    """Query values as JSON: decimals as numbers, dates as ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def describe(ctx: RunContext) -> dict[str, Any]:
    """A product's metrics and dimensions, as the service and `floe semantic list` name them."""
    spec = ctx.artifacts.semantic
    if spec is None:
        return {"metrics": [], "dimensions": []}
    dims = [{"name": d.name, "type": d.type, "model": m.model} for m, d in spec.dimensions()]
    dims += [{"name": e.name, "type": "entity", "model": m.model} for m in spec.models for e in m.entities]
    return {"metrics": [{"name": m.name, "description": m.description} for m in spec.metrics], "dimensions": dims}


def create_app(contexts: list[RunContext], token: str) -> Starlette:
    """The ASGI app for these products (their compiled artifacts); ``token`` guards every /v1 route."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from floe.semantic.query import QueryRequest, SemanticQueryError, run_query

    if not token:
        raise FloeError("the semantic service has no API token",
                        hint=f"set {TOKEN_ENV} (the local platform generates it in $FLOE_HOME/secrets.env)")
    products = {ctx.artifacts.metadata.product_name: ctx for ctx in contexts}

    def error(status: int, message: str, hint: str = "") -> JSONResponse:
        return JSONResponse({"error": message, "hint": hint}, status_code=status)

    def authorized(request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())

    def health(request: Request) -> JSONResponse:
        from floe._net import reachable

        body: dict[str, Any] = {"products": sorted(products)}
        uris = {u for ctx in products.values() if (u := ctx.catalog_plugin().endpoint())}
        down = [u for u in sorted(uris) if not reachable(u, timeout=1.0)]
        if down:
            return JSONResponse({**body, "status": "unhealthy", "reason": f"catalog {', '.join(down)} unreachable"},
                                status_code=503)
        return JSONResponse({**body, "status": "ok"})

    def meta(request: Request) -> JSONResponse:
        if not authorized(request):
            return error(401, "missing or wrong bearer token", f"send Authorization: Bearer ${TOKEN_ENV}")
        return JSONResponse({"products": {name: describe(ctx) for name, ctx in sorted(products.items())}})

    async def query(request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        if not authorized(request):
            return error(401, "missing or wrong bearer token", f"send Authorization: Bearer ${TOKEN_ENV}")
        try:
            body = await request.json()
            product = body["product"]
            req = QueryRequest(metrics=list(body["metrics"]), group_by=list(body.get("group_by") or []),
                               where=list(body.get("where") or []), order_by=body.get("order_by"),
                               limit=body.get("limit"))
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, f"bad query body: {type(exc).__name__}: {exc}",
                         'send {"product": ..., "metrics": [...], "group_by": [...], "where": [...]}')
        ctx = products.get(product)
        if ctx is None:
            return error(404, f"unknown product {product!r}", f"products: {', '.join(sorted(products))}")
        try:
            result = await run_in_threadpool(run_query, ctx, req)
        except SemanticQueryError as exc:
            return error(400, exc.message, exc.hint or "")
        except FloeError as exc:
            return error(503, exc.message, exc.hint or "")
        rows = json.loads(json.dumps(result.rows, default=json_value))
        return JSONResponse({"product": product, "columns": result.columns, "rows": rows})

    return Starlette(routes=[Route("/health", health), Route("/v1/meta", meta),
                             Route("/v1/query", query, methods=["POST"])])


def serve(contexts: list[RunContext], host: str, port: int, token: str) -> None:
    import uvicorn

    uvicorn.run(create_app(contexts, token), host=host, port=port, log_level="warning",
                access_log=False)
