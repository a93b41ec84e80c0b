"""Jaeger (v2, built from source by ``make setup``) and the rotel OTLP collector in front of it: the
local platform's tracing backend, run for the ``jaeger`` telemetry plugin."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from floe.errors import FloeError
from floe.plugins.local import LOCALHOST, LocalPlatform, Probe, ServiceSpec

JAEGER_VERSION = "v1.76.0"
JAEGER_OTLP_GRPC = 14317
HEALTH_PORT = 13134
CONFIG = Path(__file__).resolve().parent / "jaeger.yaml"


def jaeger_binary(cache: Path) -> Path:
    return cache / "bin" / f"jaeger-{JAEGER_VERSION}" / "jaeger"


def jaeger(platform: LocalPlatform, query_port: int) -> ServiceSpec:
    data = platform.data / "jaeger"
    binary = jaeger_binary(platform.cache)

    def prepare() -> None:
        if not binary.exists():
            raise FloeError(f"Jaeger {JAEGER_VERSION} is not built",
                            hint="run `make setup` (services/jaeger/install.sh)")
        for sub in ("keys", "values"):
            (data / sub).mkdir(parents=True, exist_ok=True)

    env = {
        "FLOE_JAEGER_HOST": LOCALHOST, "FLOE_JAEGER_QUERY_HTTP_PORT": str(query_port),
        "FLOE_JAEGER_QUERY_GRPC_PORT": "16685", "FLOE_JAEGER_OTLP_GRPC_PORT": str(JAEGER_OTLP_GRPC),
        "FLOE_JAEGER_OTLP_HTTP_PORT": "14318", "FLOE_JAEGER_HEALTH_PORT": str(HEALTH_PORT),
        "FLOE_JAEGER_DATA_DIR": str(data), "FLOE_JAEGER_SPAN_TTL": "168h", "FLOE_JAEGER_LOG_LEVEL": "info",
    }
    return ServiceSpec(
        name="jaeger", command=[str(binary), "--config", f"file:{CONFIG}"],
        probe=Probe("http", url=f"http://{LOCALHOST}:{HEALTH_PORT}/status"), port=query_port, env=env,
        prepare=prepare, start_timeout=60,
    )


def otel_collector(platform: LocalPlatform, grpc_port: int) -> ServiceSpec:
    """rotel (PyPI): OTLP gRPC + HTTP in, OTLP out to Jaeger."""
    spec = find_spec("rotel")
    if spec is None or not spec.submodule_search_locations:
        raise FloeError("the rotel collector is not installed", hint="run `make setup`")
    agent = Path(next(iter(spec.submodule_search_locations))) / "rotel-agent"
    return ServiceSpec(
        name="otel-collector",
        command=[str(agent), "start", "--otlp-grpc-endpoint", f"{LOCALHOST}:{grpc_port}",
                 "--otlp-http-endpoint", f"{LOCALHOST}:{grpc_port + 1}", "--exporter", "otlp",
                 "--otlp-exporter-endpoint", f"http://{LOCALHOST}:{JAEGER_OTLP_GRPC}",
                 "--pid-file", str(platform.run / "rotel.pid"),
                 "--log-file", str(platform.logs / "otel-collector.log")],
        probe=Probe("tcp", port=grpc_port), port=grpc_port, depends_on=["jaeger"], start_timeout=30,
    )
