"""The local platform as a plugin sees it: the services a plugin asks `floe platform up` to run, and the
bootstrap steps it performs once they are healthy.

A plugin that needs a process on this machine (the S3 store, the orchestrator's webserver, a tracing
backend) returns ``ServiceSpec`` s from ``FloePlugin.local_services``; what must exist before products
run (buckets, warehouses, grants) is ``FloePlugin.bootstrap``. The platform only starts, probes, stops
and orders them: it never knows which backend asked.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlparse

from floe.errors import ConfigError, FloeError
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from floe.plugins.base import FloePlugin
    from floe.plugins.interfaces import RBACPlugin

LOCALHOST = "127.0.0.1"
POSTGRES_PORT = 15432
"""The platform's own PostgreSQL (a core service: the orchestrator's and other plugins' state)."""


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
    """One process of the local platform: its command, dependencies, health probe and preparation."""

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


def port_of(url: str, default: int) -> int:
    return urlparse(url).port or default


def venv_bin(name: str) -> str:
    """An executable installed beside this Python (the venv's), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FloeError(f"{name} is not installed", hint="run `make setup`")
    return found


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (service configs holding credentials)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


@dataclass(frozen=True)
class DeployedProduct:
    """A compiled product the platform serves."""

    name: str
    artifacts_dir: Path


@dataclass(frozen=True)
class Grant:
    """What one product's principal may do in the catalog and its storage, as the rbac plugin decides."""

    product: str
    principal: str
    namespaces: tuple[str, ...]
    write: bool = True
    """False: read only (list and read tables and their objects)."""


@dataclass
class LocalPlatform:
    """What a plugin sees of the local platform: its folders, its secrets, the deployed products and
    the other configured plugins (by type)."""

    data: Path
    config: Path
    run: Path
    logs: Path
    cache: Path
    secrets: Mapping[str, str]
    products: Sequence[DeployedProduct] = ()
    principals: Sequence[str] = ()
    """Products that run as their own principal (the catalog's ``principals: per-product``)."""
    plugins: Mapping[PluginType, Sequence[FloePlugin]] = field(default_factory=dict)

    def plugin(self, ptype: PluginType) -> FloePlugin | None:
        found = self.plugins.get(ptype) or ()
        return found[0] if found else None

    def services_of(self, ptype: PluginType) -> list[str]:
        """Names of the services the configured plugin of ``ptype`` runs here (to depend on them)."""
        plugin = self.plugin(ptype)
        return [s.name for s in plugin.local_services(self)] if plugin is not None else []

    def grants(self) -> list[Grant]:
        """Every per-product principal's grants, from the rbac plugin.

        Raises:
            ConfigError: products run as their own principals and the manifest has no rbac plugin to
                say what they may do.
        """
        if not self.principals:
            return []
        rbac = self.plugin(PluginType.RBAC)
        if rbac is None:
            raise ConfigError("products run as their own principals (catalog principals: per-product) but no "
                              "rbac plugin says what each may do", key="plugins.rbac",
                              hint="add plugins.rbac (e.g. {type: k8s}) to manifest.yaml")
        return [g for product in sorted(self.principals) for g in cast("RBACPlugin", rbac).grants(product)]

    def pg_dsn(self, database: str) -> str:
        """A DSN for the platform's PostgreSQL (holds its password: never log it)."""
        return f"postgresql://floe:{self.secrets['FLOE_PG_PASSWORD']}@{LOCALHOST}:{POSTGRES_PORT}/{database}"


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: str  # "created" | "already present" | "verified"
    detail: str = ""


class BootstrapError(FloeError):
    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        super().__init__(f"bootstrap step {step!r} failed: {reason}",
                         hint="see `floe platform logs <service>`; rerun `floe platform bootstrap` once fixed")


def run_step(name: str, fn: Callable[[], StepResult]) -> StepResult:
    """Run one bootstrap step; any failure becomes a ``BootstrapError`` naming it."""
    try:
        return fn()
    except BootstrapError:
        raise
    except Exception as exc:
        raise BootstrapError(name, f"{type(exc).__name__}: {exc}") from exc


__all__ = ["LOCALHOST", "POSTGRES_PORT", "BootstrapError", "DeployedProduct", "Grant", "LocalPlatform", "Probe",
           "ServiceSpec", "StepResult", "port_of", "run_step", "venv_bin", "write_private"]

