"""Plugins on the real platform: every configured plugin is healthy against its live service within its
deadline, all fourteen plugin types have an ABC and an installed implementation, a third-party package is
discovered through its entry point, and an incompatible plugin is refused (15-FR-010, 15-FR-015)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ROOT
from tests.e2e.conftest import floe

from floe.plugins import PLUGIN_ABC_MAP, HealthState, PluginType, get_registry

pytestmark = pytest.mark.e2e
CONFIGURED = ["compute", "orchestrator", "catalog", "storage", "telemetry_backend", "lineage_backend",
              "semantic_layer", "quality", "rbac", "alert_channel", "secrets", "identity"]


@pytest.fixture(scope="module")
def health(platform: dict[str, Any], manifest_path: Path, secrets: dict[str, str]) -> dict[str, Any]:
    """One concurrent health round over every plugin, configured ones against the live platform."""
    from floe.platform.controller import load_manifest
    from floe.plugins.registry import _configs

    manifest = load_manifest(manifest_path)
    os.environ.update(secrets)  # the env secrets plugin resolves the platform's credentials
    try:
        reports = get_registry().health_check_all(manifest, timeout=5)
    finally:
        for key in secrets:
            os.environ.pop(key, None)
    configured = {p.value: {c.type for c in _configs(manifest, p)} for p in PluginType}
    return {r.type.value: r for r in reports if r.name in configured[r.type.value]}


@pytest.mark.requirement("FLOE-PLUGIN-HEALTH")
@pytest.mark.parametrize("slot", CONFIGURED)
def test_configured_plugin_is_healthy_against_the_platform(health: dict[str, Any], slot: str) -> None:
    report = health[slot]
    assert report.status.state is HealthState.HEALTHY, f"{slot} {report.name}: {report.status.message}"
    assert report.seconds < 5.5


@pytest.mark.requirement("FLOE-PLUGIN-HEALTH")
def test_plugins_check_cli_passes_on_the_platform(platform: dict[str, Any], manifest_path: Path,
                                                  secrets: dict[str, str]) -> None:
    r = subprocess.run([sys.executable, "-m", "floe.cli.main", "plugins", "check", "-m", str(manifest_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                       env={**os.environ, **secrets, "COLUMNS": "200"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "iceberg-rest" in r.stdout and "healthy" in r.stdout


@pytest.mark.requirement("15-FR-010")
def test_every_plugin_type_has_an_abc_and_an_installed_implementation(platform: dict[str, Any]) -> None:
    assert len(PluginType) == 14 and set(PLUGIN_ABC_MAP) == set(PluginType)
    registry = get_registry()
    for ptype, infos in registry.list_all().items():
        assert infos, f"no installed {ptype.value} plugin"
        for info in infos:
            cls = registry.get(ptype, info.name)
            assert issubclass(cls, PLUGIN_ABC_MAP[ptype]) and not cls.__abstractmethods__, info
            assert cls.name == info.name and cls.version.count(".") >= 1


@pytest.mark.requirement("15-FR-010")
def test_third_party_package_is_discovered_through_its_entry_point(platform: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    pkg = tmp_path / "floe_e2e_pager"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from floe.plugins.interfaces import AlertChannelPlugin

        class Pager(AlertChannelPlugin):
            name = "e2e-pager"
            version = "0.3.1"

            def send_alert(self, event):
                return True

            def validate_config(self):
                return []
    '''))
    dist = tmp_path / "floe_e2e_pager-0.3.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: floe-e2e-pager\nVersion: 0.3.1\n")
    (dist / "entry_points.txt").write_text("[floe.alert_channels]\ne2e-pager = floe_e2e_pager:Pager\n")
    r = subprocess.run([sys.executable, "-m", "floe.cli.main", "plugins", "list"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120, check=True,
                       env={**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200"})
    line = next((ln for ln in r.stdout.splitlines() if "e2e-pager" in ln), "")
    assert "alert_channel" in line and "floe_e2e_pager:Pager" in line and "floe-e2e-pager" in line, r.stdout


@pytest.mark.requirement("15-FR-010")
def test_incompatible_plugin_is_refused_naming_both_versions(platform: dict[str, Any]) -> None:
    from floe.errors import FloeError
    from floe.plugins.interfaces import AlertChannelPlugin

    class Future(AlertChannelPlugin):
        name = "from-the-future"
        floe_api_version = "999.0"

        def send_alert(self, event: Any) -> bool:
            return True

        def validate_config(self) -> list[str]:
            return []

    with pytest.raises(FloeError, match=r"incompatible.*999\.0.*1\.0"):
        get_registry().register(PluginType.ALERT_CHANNEL, Future)


@pytest.mark.requirement("15-FR-010")
def test_unknown_plugin_in_manifest_fails_compile_naming_installed_ones(platform: dict[str, Any],
                                                                        demo_copy: Path) -> None:
    manifest = demo_copy / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("    type: metricflow", "    type: cube-nonexistent"))
    r = floe("compile", str(demo_copy / "customer-360"), "-m", str(manifest), check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cube-nonexistent" in r.stderr and "metricflow" in r.stderr, r.stderr
