"""`floe semantic serve`: the semantic layer as a service, answering metric queries over HTTP.

One process serves every product deployed on the platform, from their compiled artifacts (the same
files Dagster loads). MetricFlow plans each query and DuckDB computes it over the product's Iceberg
marts, read with the product's own catalog principal.

    GET  /health                    no auth; 200 when every product is loaded and the catalog answers
    GET  /v1/meta                   products with their metrics and dimensions
    POST /v1/query                  {"product", "metrics", "group_by", "where", "order_by", "limit"}

Every /v1 call is authenticated by the manifest's identity plugin (``plugins.identity``, compiled into
the artifacts): ``static-token`` (one shared bearer token from a secret reference; the local platform's
``env:FLOE_SEMANTIC_TOKEN``) or ``oidc`` (ID tokens of an OpenID Connect issuer). Without
``plugins.identity`` the service does not start.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import TYPE_CHECKING, Any

from floe.errors import AuthenticationError, FloeError

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from floe.plugins.interfaces import IdentityPlugin
    from floe.runtime.context import RunContext


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


def service_identity(contexts: list[RunContext]) -> IdentityPlugin:
    """The identity plugin guarding the service: the products' ``plugins.identity``, bound to their secrets.

    Raises:
        FloeError: the products were compiled with different identity plugins, or with none.
        ConfigError: the identity plugin's secret (e.g. the static token) cannot be resolved.
    """
    refs = {ctx.artifacts.metadata.product_name: ctx.artifacts.plugins.identity for ctx in contexts}
    first = contexts[0]
    if any(ref != refs[first.artifacts.metadata.product_name] for ref in refs.values()):
        described = ", ".join(f"{name}: {ref.type if ref else 'none'}" for name, ref in sorted(refs.items()))
        raise FloeError(f"the products were compiled with different identity plugins ({described})",
                        hint="compile them against the same manifest, or serve them from separate services")
    plugin = first.identity_plugin()
    if plugin is None:
        raise FloeError("the semantic service authenticates callers through plugins.identity, which this "
                        "manifest does not set",
                        hint="add e.g. `identity: {type: static-token, token: env:FLOE_SEMANTIC_TOKEN}` under "
                             "plugins in manifest.yaml (or type: oidc with issuer_url and audience) and recompile")
    return plugin


def create_app(contexts: list[RunContext], identity: IdentityPlugin | None = None) -> Starlette:
    """The ASGI app for these products (their compiled artifacts); ``identity`` guards every /v1 route.

    Args:
        contexts: the products, from their compiled artifacts.
        identity: a bound identity plugin; default: ``service_identity(contexts)``.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from floe.plugins.semantic.query import QueryRequest, SemanticQueryError

    if not contexts:
        raise FloeError("the semantic service needs at least one product", hint="name products or their artifacts")
    guard = identity if identity is not None else service_identity(contexts)
    products = {ctx.artifacts.metadata.product_name: ctx for ctx in contexts}

    def error(status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)

    async def refused(request: Request) -> JSONResponse | None:
        """None when the identity plugin accepts the caller, else the answer to send."""
        try:
            # a thread: an OIDC plugin may fetch the issuer's keys
            await run_in_threadpool(guard.authenticate, request.headers)
        except AuthenticationError as exc:
            return error(401, exc.message, exc.hint or "", {"WWW-Authenticate": 'Bearer realm="floe-semantic"'})
        except FloeError as exc:  # the identity provider is down or misconfigured: not the caller's fault
            return error(503, exc.message, exc.hint or "")
        return None

    def health(request: Request) -> JSONResponse:
        from floe._net import reachable

        body: dict[str, Any] = {"products": sorted(products)}
        uris = {u for ctx in products.values() if (u := ctx.catalog_plugin().endpoint())}
        down = [u for u in sorted(uris) if not reachable(u, timeout=1.0)]
        if down:
            return JSONResponse({**body, "status": "unhealthy", "reason": f"catalog {', '.join(down)} unreachable"},
                                status_code=503)
        return JSONResponse({**body, "status": "ok"})

    async def meta(request: Request) -> JSONResponse:
        if (answer := await refused(request)) is not None:
            return answer
        return JSONResponse({"products": {name: describe(ctx) for name, ctx in sorted(products.items())}})

    async def query(request: Request) -> JSONResponse:
        if (answer := await refused(request)) is not None:
            return answer
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
            result = await run_in_threadpool(ctx.semantic_plugin().query, ctx, req)
        except SemanticQueryError as exc:
            return error(400, exc.message, exc.hint or "")
        except FloeError as exc:
            return error(503, exc.message, exc.hint or "")
        rows = json.loads(json.dumps(result.rows, default=json_value))
        return JSONResponse({"product": product, "columns": result.columns, "rows": rows})

    return Starlette(routes=[Route("/health", health), Route("/v1/meta", meta),
                             Route("/v1/query", query, methods=["POST"])])


def serve(contexts: list[RunContext], host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(contexts), host=host, port=port, log_level="warning",
                access_log=False)
