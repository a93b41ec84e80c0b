"""The local platform's services: how each is prepared, started, probed and stopped.

Adding a service is one ``ServiceSpec`` in ``build_services``: a command, its dependencies, a health
probe and (optionally) a ``prepare`` step that writes its config or initialises its data.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from floe.config.principals import per_product, principal_name, product_namespaces, product_secret_names
from floe.errors import ConfigError, FloeError
from floe.home import Home, cache_dir

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class Probe:
    """A real health check: an HTTP GET expecting a status below 400, a TCP connect, or a function."""

    kind: str  # "http" | "tcp" | "custom"
    url: str = ""
    port: int = 0
    fn: Callable[[float], tuple[bool, str]] | None = None

    def check(self, timeout: float = 2.0) -> tuple[bool, str]:
        if self.kind == "custom":
            assert self.fn is not None
            try:
                return self.fn(timeout)
            except Exception as exc:
                return False, f"{type(exc).__name__}: {exc}"
        if self.kind == "tcp":
            try:
                with socket.create_connection((LOCALHOST, self.port), timeout=timeout):
                    return True, f"tcp {self.port} open"
            except OSError as exc:
                return False, f"tcp {self.port}: {exc.strerror or exc}"
        import httpx

        try:
            r = httpx.get(self.url, timeout=timeout)
        except httpx.HTTPError as exc:
            return False, f"GET {self.url}: {type(exc).__name__}"
        # 401 means the service is up and enforcing auth (e.g. the OCI registry's /v2/)
        ok = r.status_code < 400 or r.status_code == 401
        return ok, f"GET {self.url}: {r.status_code}"


@dataclass
class ServiceSpec:
    name: str
    command: list[str]
    probe: Probe
    port: int
    depends_on: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None
    after_healthy: Callable[[], object] | None = None
    """Runs once the probe passes (e.g. create databases); a failure marks the service failed."""
    start_timeout: float = 120.0
    stop_timeout: float = 20.0
    cwd: Path | None = None
    user: str | None = None
    """Run as this user (PostgreSQL refuses root)."""

    def argv(self) -> list[str]:
        if self.user and os.geteuid() == 0:
            return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", "--", *self.command]
        return self.command


def _port(url: str, default: int) -> int:
    return urlparse(url).port or default


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FloeError(f"{name} is not installed", hint="run `make setup`")
    return found


def build_services(manifest: Any, home: Home, secrets: dict[str, str], products: list[Path]) -> list[ServiceSpec]:
    """Every service the manifest's plugins need, in dependency order."""
    p = manifest.plugins
    services: list[ServiceSpec] = [_postgres(home, secrets)]
    if p.storage.type == "s3":
        # SeaweedFS also serves the Iceberg REST catalog when the manifest points an iceberg-rest
        # catalog at this machine (Polaris cannot be built here: services/polaris/README.md).
        iceberg = _port(p.catalog.uri, 8181) if p.catalog.type == "iceberg-rest" else 0
        principals = principals_of(manifest, products)
        warehouse = p.catalog.warehouse if p.catalog.type == "iceberg-rest" else p.storage.bucket
        services.append(_seaweedfs(home, secrets, _port(p.storage.endpoint, 8333), iceberg,
                                   principals, warehouse))
    if p.telemetry_backend is not None and p.telemetry_backend.type == "jaeger":
        query = p.telemetry_backend.query_url or "http://127.0.0.1:16686"
        services.append(_jaeger(home, _port(query, 16686)))
        services.append(_otel_collector(home, _port(p.telemetry_backend.endpoint, 4317)))
    services += _dagster(home, secrets, _port(p.orchestrator.url or "http://127.0.0.1:3000", 3000), products,
                         p.orchestrator.max_concurrent_runs or 2)
    services.append(_registry(home, secrets, manifest.platform.registry_port))
    semantic = p.semantic_layer
    if semantic is not None and semantic.type == "metricflow" and semantic.api_url:
        services.append(_semantic(secrets, _port(semantic.api_url, 4010), products,
                                  ["seaweedfs"] if p.storage.type == "s3" else []))
    names = {s.name for s in services}
    for s in services:
        missing = [d for d in s.depends_on if d not in names]
        if missing:
            raise ConfigError(f"service {s.name} needs {missing}, which this manifest does not run",
                              key="plugins", hint="enable the missing plugin in manifest.yaml")
    return services


# -- PostgreSQL -------------------------------------------------------------------------------------
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_DATABASES = ("dagster", "marquez", "polaris")


def pg_data_dir(home: Home) -> Path:
    """PostgreSQL refuses to run as root and cannot enter /root; as root its data lives in /var/lib."""
    if os.geteuid() != 0:
        return home.data / "postgres"
    import hashlib

    digest = hashlib.sha256(str(home.root.resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib/floe-postgres") / digest


def _postgres(home: Home, secrets: dict[str, str]) -> ServiceSpec:
    port = 15432
    data = pg_data_dir(home)
    sock = data.parent / f"{data.name}-sock"

    def prepare() -> None:
        user = "postgres" if os.geteuid() == 0 else None
        if not (PG_BIN / "postgres").exists():
            raise FloeError("PostgreSQL 15 is not installed", hint="run `make setup` (Debian postgresql-15)")
        link = home.data / "postgres"
        if data != link and data.exists() and not link.is_symlink():
            # left by an earlier $FLOE_HOME at this path, deleted since together with the password the
            # cluster was made with: nothing can log in to it any more, so it is started afresh
            shutil.rmtree(data)
            shutil.rmtree(sock, ignore_errors=True)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            sock.mkdir(parents=True, exist_ok=True)
            pwfile = data.parent / f"{data.name}.pw"
            pwfile.write_text(secrets["FLOE_PG_PASSWORD"] + "\n")
            if user:
                shutil.chown(data, user, user)
                shutil.chown(sock, user, user)
                shutil.chown(pwfile, user, user)
            os.chmod(pwfile, 0o600)
            cmd = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "floe", f"--pwfile={pwfile}",
                   "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]
            if user:
                cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *cmd]
            subprocess.run(cmd, check=True, capture_output=True)
            pwfile.unlink()
        if not link.is_symlink() and data != link:
            link.symlink_to(data)

    return ServiceSpec(
        name="postgres",
        command=[str(PG_BIN / "postgres"), "-D", str(data), "-c", f"listen_addresses={LOCALHOST}",
                 "-p", str(port), "-k", str(sock)],
        probe=Probe("tcp", port=port), port=port, prepare=prepare, user="postgres", start_timeout=60,
        after_healthy=lambda: ensure_databases(secrets), stop_timeout=30,
    )


def pg_dsn(secrets: dict[str, str], database: str) -> str:
    return f"postgresql://floe:{secrets['FLOE_PG_PASSWORD']}@{LOCALHOST}:15432/{database}"


def ensure_databases(secrets: dict[str, str]) -> list[str]:
    import psycopg

    # the TCP probe can pass a moment before PostgreSQL accepts logins
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(pg_dsn(secrets, "postgres"), connect_timeout=3).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

    created = []
    with psycopg.connect(pg_dsn(secrets, "postgres"), autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for db in PG_DATABASES:
            if db not in existing:
                conn.execute(f'create database "{db}"')
                created.append(db)
    return created


# -- SeaweedFS (S3) -----------------------------------------------------------------------------------
def principals_of(manifest: Any, artifact_dirs: list[Path]) -> list[str]:
    """The products (by name) that get their own catalog principal: none unless the catalog says
    ``principals: per-product``."""
    import json

    from floe.contract import ARTIFACTS_FILE

    if not per_product(manifest):
        return []
    return [json.loads((d / ARTIFACTS_FILE).read_text())["metadata"]["product_name"] for d in artifact_dirs]


def seaweedfs_identities(secrets: dict[str, str], products: list[str], warehouse: str) -> dict[str, Any]:
    """S3 identities: the platform's admin, and one per product whose object access is limited to the
    product's namespace folders of the warehouse (the catalog side is the table bucket policy that
    bootstrap writes)."""
    identities = [{
        "name": "floe",
        "credentials": [{"accessKey": secrets["FLOE_S3_ACCESS_KEY_ID"],
                         "secretKey": secrets["FLOE_S3_SECRET_ACCESS_KEY"]}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]
    for product in products:
        key_id, secret = product_secret_names(product)
        identities.append({
            "name": principal_name(product),
            "credentials": [{"accessKey": secrets[key_id], "secretKey": secrets[secret]}],
            "actions": [f"{action}:{warehouse}/{ns}/*" for action in ("Read", "List", "Write")
                        for ns in product_namespaces(product)],
        })
    return {"identities": identities}


def _seaweedfs(home: Home, secrets: dict[str, str], port: int, iceberg_port: int,
               products: list[str], warehouse: str) -> ServiceSpec:
    data = home.data / "seaweedfs"
    conf = home.config / "seaweedfs-s3.json"

    def prepare() -> None:
        import json

        data.mkdir(parents=True, exist_ok=True)
        identities = seaweedfs_identities(secrets, products, warehouse)
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(identities, f)

    return ServiceSpec(
        name="seaweedfs",
        command=[venv_bin("weed"), "mini", f"-dir={data}", f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}",
                 "-master.telemetry=false", f"-s3.config={conf}", "-admin.ui=false", "-webdav=false",
                 "-s3.port.lance=0", f"-s3.port.iceberg={iceberg_port}", f"-s3.port={port}",
                 f"-s3.externalUrl=http://{LOCALHOST}:{port}", "-filer.port=18888"],
        probe=Probe("http", url=f"http://{LOCALHOST}:{iceberg_port}/v1/config") if iceberg_port
        else Probe("tcp", port=port),
        port=port, prepare=prepare, start_timeout=60,
    )


# -- Jaeger and the OTLP collector -------------------------------------------------------------------
JAEGER_VERSION = "v1.76.0"
JAEGER_OTLP_GRPC = 14317
ASSETS = Path(__file__).resolve().parent / "assets"


def jaeger_binary() -> Path:
    return cache_dir() / "bin" / f"jaeger-{JAEGER_VERSION}" / "jaeger"


def _jaeger(home: Home, query_port: int) -> ServiceSpec:
    data = home.data / "jaeger"
    health = 13134

    def prepare() -> None:
        if not jaeger_binary().exists():
            raise FloeError(f"Jaeger {JAEGER_VERSION} is not built",
                            hint="run `make setup` (services/jaeger/install.sh)")
        for sub in ("keys", "values"):
            (data / sub).mkdir(parents=True, exist_ok=True)

    env = {
        "FLOE_JAEGER_HOST": LOCALHOST, "FLOE_JAEGER_QUERY_HTTP_PORT": str(query_port),
        "FLOE_JAEGER_QUERY_GRPC_PORT": "16685", "FLOE_JAEGER_OTLP_GRPC_PORT": str(JAEGER_OTLP_GRPC),
        "FLOE_JAEGER_OTLP_HTTP_PORT": "14318", "FLOE_JAEGER_HEALTH_PORT": str(health),
        "FLOE_JAEGER_DATA_DIR": str(data), "FLOE_JAEGER_SPAN_TTL": "168h", "FLOE_JAEGER_LOG_LEVEL": "info",
    }
    return ServiceSpec(
        name="jaeger", command=[str(jaeger_binary()), "--config", f"file:{ASSETS / 'jaeger.yaml'}"],
        probe=Probe("http", url=f"http://{LOCALHOST}:{health}/status"), port=query_port, env=env,
        prepare=prepare, start_timeout=60,
    )


def _otel_collector(home: Home, grpc_port: int) -> ServiceSpec:
    """rotel (PyPI): OTLP gRPC + HTTP in, OTLP out to Jaeger."""
    from importlib.util import find_spec

    spec = find_spec("rotel")
    if spec is None or not spec.submodule_search_locations:
        raise FloeError("the rotel collector is not installed", hint="run `make setup`")
    agent = Path(next(iter(spec.submodule_search_locations))) / "rotel-agent"
    return ServiceSpec(
        name="otel-collector",
        command=[str(agent), "start", "--otlp-grpc-endpoint", f"{LOCALHOST}:{grpc_port}",
                 "--otlp-http-endpoint", f"{LOCALHOST}:{grpc_port + 1}", "--exporter", "otlp",
                 "--otlp-exporter-endpoint", f"http://{LOCALHOST}:{JAEGER_OTLP_GRPC}",
                 "--pid-file", str(home.run / "rotel.pid"), "--log-file", str(home.logs / "otel-collector.log")],
        probe=Probe("tcp", port=grpc_port), port=grpc_port, depends_on=["jaeger"], start_timeout=30,
    )


# -- Dagster ----------------------------------------------------------------------------------------
def _dagster(home: Home, secrets: dict[str, str], port: int, products: list[Path],
            max_concurrent_runs: int = 2) -> list[ServiceSpec]:
    dhome = home.data / "dagster"
    workspace = home.config / "dagster-workspace.yaml"

    def prepare() -> None:
        import yaml

        dhome.mkdir(parents=True, exist_ok=True)
        storage = {"postgres": {"postgres_db": {
            "hostname": LOCALHOST, "port": 15432, "username": "floe", "db_name": "dagster",
            "password": {"env": "FLOE_PG_PASSWORD"},
        }}}
        (dhome / "dagster.yaml").write_text(yaml.safe_dump({
            "storage": storage,
            "telemetry": {"enabled": False},
            # code servers load dagster-dbt and the dbt manifest; on a busy 2-core machine that can
            # take longer than Dagster's default start-up timeout
            "code_servers": {"local_startup_timeout": 300},
            "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator",
                                # the daemon looks at the queue every second (Dagster's default: 5)
                                "config": {"max_concurrent_runs": max_concurrent_runs,
                                           "dequeue_interval_seconds": 1}},
        }, sort_keys=False))
        write_workspace(workspace, products)

    env = {"DAGSTER_HOME": str(dhome), "FLOE_PG_PASSWORD": secrets["FLOE_PG_PASSWORD"],
           "DAGSTER_GRPC_TIMEOUT_SECONDS": "300"}
    web = ServiceSpec(
        name="dagster-webserver",
        command=[venv_bin("dagster-webserver"), "-h", LOCALHOST, "-p", str(port), "-w", str(workspace)],
        probe=Probe("http", url=f"http://{LOCALHOST}:{port}/server_info"), port=port,
        depends_on=["postgres"], env=env, prepare=prepare, start_timeout=180,
    )
    daemon = ServiceSpec(
        name="dagster-daemon",
        command=[venv_bin("dagster-daemon"), "run", "-w", str(workspace)],
        probe=Probe("custom", fn=lambda timeout: daemon_heartbeat(secrets, timeout)), port=0,
        depends_on=["postgres"], env=env, prepare=prepare, start_timeout=240,
    )
    return [web, daemon]


def daemon_heartbeat(secrets: dict[str, str], timeout: float) -> tuple[bool, str]:
    """The daemon is healthy when its scheduler and run-queue loops wrote a heartbeat in the last minute."""
    import psycopg

    with psycopg.connect(pg_dsn(secrets, "dagster"), connect_timeout=max(1, int(timeout))) as conn:
        try:
            rows = conn.execute(
                "select daemon_type, timestamp from daemon_heartbeats "
                "where timestamp > (now() at time zone 'utc') - interval '60 seconds'").fetchall()
        except psycopg.errors.UndefinedTable:
            return False, "no heartbeat table yet"
    types = sorted({r[0] for r in rows})
    required = {"SCHEDULER", "QUEUED_RUN_COORDINATOR"}
    if required <= set(types):
        return True, f"heartbeats: {', '.join(types)}"
    return False, f"waiting for heartbeats of {', '.join(sorted(required - set(types)))}"


def write_workspace(path: Path, products: list[Path]) -> None:
    """One code location per compiled product, each loading its definitions from artifacts."""
    import yaml

    entries = [{"python_file": {"relative_path": str(d / "definitions.py"), "working_directory": str(d),
                                "location_name": d.parent.parent.parent.name}} for d in products]
    path.write_text(yaml.safe_dump({"load_from": entries}, sort_keys=False))


# -- OCI registry -----------------------------------------------------------------------------------
# -- the semantic layer ---------------------------------------------------------------------------------
def _semantic(secrets: dict[str, str], port: int, products: list[Path], depends_on: list[str]) -> ServiceSpec:
    """`floe semantic serve` over the deployed products' artifacts (MetricFlow + DuckDB over Iceberg)."""
    from floe.contract import ARTIFACTS_FILE
    from floe.semantic.server import TOKEN_ENV

    return ServiceSpec(
        name="semantic",
        command=[sys.executable, "-m", "floe.cli.main", "semantic", "serve",
                 *(str(d / ARTIFACTS_FILE) for d in products), "--host", LOCALHOST, "--port", str(port)],
        probe=Probe("http", url=f"http://{LOCALHOST}:{port}/health"), port=port, depends_on=depends_on,
        env={TOKEN_ENV: secrets[TOKEN_ENV]}, start_timeout=60,
    )


def _registry(home: Home, secrets: dict[str, str], port: int) -> ServiceSpec:
    data = home.data / "registry"
    conf = home.config / "registry.yml"
    htpasswd = home.config / "registry.htpasswd"

    def prepare() -> None:
        import bcrypt
        import yaml

        if not shutil.which("docker-registry"):
            raise FloeError("docker-registry is not installed", hint="run `make setup` (Debian docker-registry)")
        data.mkdir(parents=True, exist_ok=True)
        # the registry checks this hash on every request: a moderate cost keeps it responsive
        hashed = bcrypt.hashpw(secrets["FLOE_REGISTRY_PASSWORD"].encode(), bcrypt.gensalt(rounds=10)).decode()
        htpasswd.write_text(f"{secrets['FLOE_REGISTRY_USER']}:{hashed}\n")
        os.chmod(htpasswd, 0o600)
        cfg = {
            "version": 0.1,
            "log": {"level": "info"},
            "storage": {"filesystem": {"rootdirectory": str(data)}, "delete": {"enabled": True}},
            "http": {"addr": f"{LOCALHOST}:{port}", "secret": secrets["FLOE_REGISTRY_PASSWORD"][:16]},
            "auth": {"htpasswd": {"realm": "floe-registry", "path": str(htpasswd)}},
        }
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(cfg, f)

    return ServiceSpec(
        name="oci-registry", command=["docker-registry", "serve", str(conf)],
        probe=Probe("http", url=f"http://{LOCALHOST}:{port}/v2/"), port=port, prepare=prepare, start_timeout=30,
    )


def service_cache() -> Path:
    return cache_dir()
