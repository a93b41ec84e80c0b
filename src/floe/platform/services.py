"""The local platform's services: the platform's own (PostgreSQL, the OCI registry) and whatever the
manifest's plugins ask for (``FloePlugin.local_services``), in dependency order.

The platform never decides by a backend's name: each plugin says which processes it needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from floe.config.principals import per_product
from floe.errors import ConfigError, FloeError
from floe.home import Home, cache_dir
from floe.plugins.local import (
    LOCALHOST,
    POSTGRES_PORT,
    DeployedProduct,
    LocalPlatform,
    Probe,
    ServiceSpec,
    write_private,
)

__all__ = ["LOCALHOST", "Probe", "ServiceSpec", "build_services", "local_platform"]


def local_platform(manifest: Any, home: Home, secrets: dict[str, str], artifact_dirs: list[Path]) -> LocalPlatform:
    """The platform as the manifest's plugins see it (see ``floe.plugins.local``)."""
    from floe.contract import ARTIFACTS_FILE
    from floe.plugins import get_registry

    products = [DeployedProduct(json.loads((d / ARTIFACTS_FILE).read_text())["metadata"]["product_name"], d)
                for d in artifact_dirs]
    return LocalPlatform(
        data=home.data, config=home.config, run=home.run, logs=home.logs, cache=cache_dir(), secrets=secrets,
        products=products, principals=[p.name for p in products] if per_product(manifest) else [],
        plugins=get_registry().from_manifest(manifest),
    )


def build_services(manifest: Any, home: Home, secrets: dict[str, str], products: list[Path]) -> list[ServiceSpec]:
    """Every service the platform and the manifest's plugins need, in dependency order."""
    platform = local_platform(manifest, home, secrets, products)
    services: list[ServiceSpec] = [_postgres(home, secrets)]
    for plugins in platform.plugins.values():
        for plugin in plugins:
            services += plugin.local_services(platform)
    services.append(_registry(home, secrets, manifest.platform.registry_port))
    names = [s.name for s in services]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"more than one plugin asks for the local service(s) {twice}", key="plugins",
                          hint="configure one plugin per service in manifest.yaml")
    for s in services:
        missing = [d for d in s.depends_on if d not in names]
        if missing:
            raise ConfigError(f"service {s.name} needs {missing}, which this manifest does not run",
                              key="plugins", hint="enable the missing plugin in manifest.yaml")
    return _ordered(services)


def _ordered(services: list[ServiceSpec]) -> list[ServiceSpec]:
    """Dependencies first, otherwise in the order given."""
    done: list[ServiceSpec] = []
    pending = list(services)
    while pending:
        ready = next(s for s in pending if all(d in {x.name for x in done} for d in s.depends_on))
        done.append(ready)
        pending.remove(ready)
    return done


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
    port = POSTGRES_PORT
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
    return f"postgresql://floe:{secrets['FLOE_PG_PASSWORD']}@{LOCALHOST}:{POSTGRES_PORT}/{database}"


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
        write_private(conf, yaml.safe_dump(cfg))

    return ServiceSpec(
        name="oci-registry", command=["docker-registry", "serve", str(conf)],
        probe=Probe("http", url=f"http://{LOCALHOST}:{port}/v2/"), port=port, prepare=prepare, start_timeout=30,
    )


def service_cache() -> Path:
    return cache_dir()
