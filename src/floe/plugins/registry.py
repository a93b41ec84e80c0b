"""Plugin discovery through entry points: recorded eagerly (cheap), imported lazily (on use)."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from floe.config.loader import load_model
from floe.config.manifest import PlatformManifest
from floe.config.plugins import CONTEXT_KEY, PluginConfig
from floe.errors import PluginConfigurationError, PluginIncompatibleError, PluginNotFoundError
from floe.plugins.base import FLOE_PLUGIN_API_VERSION, FloePlugin, HealthState, HealthStatus
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from floe.contract import PluginRef


def is_compatible(plugin_api: str, platform_api: str = FLOE_PLUGIN_API_VERSION) -> bool:
    """Same major, and the plugin needs no newer minor than the platform offers."""
    p_major, p_minor = _major_minor(plugin_api)
    f_major, f_minor = _major_minor(platform_api)
    return p_major == f_major and p_minor <= f_minor


def _major_minor(version: str) -> tuple[int, int]:
    parts = version.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"API version {version!r} must look like X.Y or X.Y.Z")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class PluginInfo:
    type: PluginType
    name: str
    value: str
    distribution: str | None


@dataclass(frozen=True)
class HealthReport:
    type: PluginType
    name: str
    status: HealthStatus
    seconds: float


class PluginRegistry:
    def __init__(self) -> None:
        self._eps: dict[PluginType, dict[str, EntryPoint]] = {}
        self._classes: dict[tuple[PluginType, str], type[FloePlugin]] = {}
        self._discovered = False

    # -- discovery --------------------------------------------------------------------------------
    def discover(self) -> None:
        if self._discovered:
            return
        everything = entry_points()  # one scan of installed distributions, then filter per group
        for ptype in PluginType:
            self._eps[ptype] = {ep.name: ep for ep in everything.select(group=ptype.entry_point_group)}
        self._discovered = True

    def list_all(self) -> dict[PluginType, list[PluginInfo]]:
        self.discover()
        return {
            ptype: [
                PluginInfo(ptype, name, ep.value, ep.dist.name if ep.dist else None)
                for name, ep in sorted(self._eps[ptype].items())
            ]
            for ptype in PluginType
        }

    def names(self, ptype: PluginType) -> list[str]:
        self.discover()
        return sorted(self._eps[ptype])

    def register(self, ptype: PluginType, cls: type[FloePlugin]) -> None:
        """Register a class directly (tests, embedding applications)."""
        self._check(ptype, cls.name, cls)
        self.discover()
        self._classes[(ptype, cls.name)] = cls

    # -- loading ------------------------------------------------------------------------------------
    def get(self, ptype: PluginType, name: str) -> type[FloePlugin]:
        key = (ptype, name)
        if key in self._classes:
            return self._classes[key]
        self.discover()
        ep = self._eps[ptype].get(name)
        if ep is None:
            available = ", ".join(self.names(ptype)) or "none"
            raise PluginNotFoundError(
                f"no {ptype.value} plugin named {name!r} is installed (available: {available})",
                plugin=name,
                hint=f"install a package that registers it in entry-point group {ptype.entry_point_group!r}",
            )
        cls: type[FloePlugin] = ep.load()
        self._check(ptype, name, cls)
        self._classes[key] = cls
        return cls

    # -- configuration ----------------------------------------------------------------------------
    def config_model(self, slot: str, type_name: str) -> type[PluginConfig] | None:
        """The config model of the plugin ``type_name`` in manifest slot ``slot`` (None: not installed).

        Loads (imports) only that one plugin; a plugin without a ``config_model`` takes ``{type}`` only.
        """
        ptype = PluginType.from_slot(slot)
        if type_name not in self.names(ptype) and (ptype, type_name) not in self._classes:
            return None
        return self.get(ptype, type_name).config_model or PluginConfig

    def type_names(self, slot: str) -> list[str]:
        """Every installed plugin name for manifest slot ``slot``, third-party ones included."""
        ptype = PluginType.from_slot(slot)
        return sorted({*self.names(ptype), *(n for (t, n) in self._classes if t is ptype)})

    def validation_context(self) -> dict[str, Any]:
        """The pydantic context under which a manifest's plugin slots are validated by this registry."""
        return {CONTEXT_KEY: self}

    def load_manifest(self, path: Path) -> PlatformManifest:
        """Read and validate manifest.yaml, each plugin slot by its plugin's own config model."""
        return load_model(path, PlatformManifest, context=self.validation_context())

    def create(self, ptype: PluginType, name: str, config: BaseModel | dict[str, Any] | None) -> FloePlugin:
        cls = self.get(ptype, name)
        if isinstance(config, dict):
            model = cls.config_model or PluginConfig
            try:
                config = model.model_validate(config)
            except ValidationError as exc:
                fields = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
                )
                raise PluginConfigurationError(f"invalid configuration: {fields}", plugin=name,
                                               version=cls.version) from exc
        return cls(config)

    def from_ref(self, ptype: PluginType, ref: PluginRef) -> FloePlugin:
        """Rebuild the plugin a compiled artifact refers to, from its stored (typed) configuration."""
        return self.create(ptype, ref.type, {"type": ref.type, **ref.config})

    def from_manifest(self, manifest: PlatformManifest) -> dict[PluginType, list[FloePlugin]]:
        """Instantiate the configured plugin of every slot (lists for alert channels)."""
        plugins: dict[PluginType, list[FloePlugin]] = {}
        for ptype in PluginType:
            plugins[ptype] = [self.create(ptype, cfg.type, cfg) for cfg in _configs(manifest, ptype)]
        return plugins

    def _check(self, ptype: PluginType, name: str, cls: Any) -> None:
        from floe.plugins.interfaces import PLUGIN_ABC_MAP

        abc = PLUGIN_ABC_MAP[ptype]
        if not (isinstance(cls, type) and issubclass(cls, abc)):
            raise PluginIncompatibleError(f"does not implement {abc.__name__}", plugin=name)
        model = cls.config_model
        if model is not None and not (isinstance(model, type) and issubclass(model, PluginConfig)):
            raise PluginIncompatibleError("config_model must subclass floe.config.plugins.PluginConfig",
                                          plugin=name, version=cls.version)
        try:
            ok = is_compatible(cls.floe_api_version)
        except ValueError as exc:
            raise PluginIncompatibleError(str(exc), plugin=name, version=cls.version) from exc
        if not ok:
            raise PluginIncompatibleError(
                f"is incompatible: it needs floe plugin API {cls.floe_api_version}, "
                f"this floe provides {FLOE_PLUGIN_API_VERSION}",
                plugin=name,
                version=cls.version,
                hint="upgrade floe or install a plugin release built for this API",
            )

    # -- health -------------------------------------------------------------------------------------
    def health_check_all(
        self, manifest: PlatformManifest | None = None, *, timeout: float = 5.0
    ) -> list[HealthReport]:
        """Health of every discovered plugin, configured or not, each bounded by ``timeout``."""
        import time

        configured: dict[tuple[PluginType, str], BaseModel] = {}
        if manifest is not None:
            for ptype in PluginType:
                for cfg in _configs(manifest, ptype):
                    configured[(ptype, cfg.type)] = cfg
        targets = [(ptype, info.name) for ptype, infos in self.list_all().items() for info in infos]
        reports: list[HealthReport] = []
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="floe-health")
        try:
            futures = {}
            for ptype, name in targets:
                futures[(ptype, name)] = (time.monotonic(), pool.submit(
                    self._one_health, ptype, name, configured.get((ptype, name)), timeout
                ))
            for (ptype, name), (started, fut) in futures.items():
                remaining = max(0.0, timeout - (time.monotonic() - started))
                try:
                    status = fut.result(timeout=remaining + 0.5)
                except concurrent.futures.TimeoutError:
                    status = HealthStatus(HealthState.UNHEALTHY, f"no answer within {timeout:.0f}s")
                reports.append(HealthReport(ptype, name, status, time.monotonic() - started))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return reports

    def _one_health(
        self, ptype: PluginType, name: str, config: BaseModel | None, timeout: float
    ) -> HealthStatus:
        try:
            return self.create(ptype, name, config).health_check(timeout=timeout)
        except Exception as exc:  # a broken plugin must not break the report
            return HealthStatus(HealthState.UNHEALTHY, f"{type(exc).__name__}: {exc}")


def _configs(manifest: PlatformManifest, ptype: PluginType) -> list[PluginConfig]:
    return [cfg for slot, cfg in manifest.plugins.configured() if slot == ptype.slot]


_registry: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    global _registry
    if _registry is None:
        _registry = PluginRegistry()
    return _registry


def load_manifest(path: Path) -> PlatformManifest:
    """Read and validate manifest.yaml with the installed plugins (see ``PluginRegistry.load_manifest``)."""
    return get_registry().load_manifest(Path(path))


def _reset_registry() -> None:
    global _registry
    _registry = None
