"""`floe platform deploy --target kubernetes`: values from the manifest, the chart, and Helm.

Rendering uses the embedded Helm SDK (no cluster needed, `--dry-run`); applying needs the `helm`
CLI and a cluster, and goes through the release manager so a stuck release is repaired first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.errors import FloeError

CHART = Path(__file__).resolve().parents[3] / "charts" / "floe-platform"


def values_from_manifest(manifest: Any, products: list[str], compiled: Sequence[Any] = ()) -> dict[str, Any]:
    """The chart values the manifest decides (everything else comes from the values files).

    Its governance and approvals go into the manifest the chart renders for the cluster, so products
    compiled there are held to the same rules; its endpoints do not (the chart's are the cluster's).
    Each configured plugin adds its values for the ``compiled`` products (``FloePlugin.deploy_values``:
    the rbac plugin's objects and grants, the semantic layer's model).
    """
    from floe.plugins import get_registry

    values: dict[str, Any] = {
        "products": [{"name": p} for p in products],
        "manifest": {"governance": manifest.governance.model_dump(mode="json"),
                     "approved": manifest.approved.model_dump(mode="json")},
    }
    for _, config in manifest.plugins.configured():
        _merge(values, config.chart_values())
    for plugins in get_registry().from_manifest(manifest).values():
        for plugin in plugins:
            _merge(values, plugin.deploy_values(compiled))
    return values


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@dataclass(frozen=True)
class DeployResult:
    objects: list[dict[str, Any]]
    commands: list[list[str]]
    written: Path | None


def deploy(manifest_path: Path, manifest: Any, products: list[str], *, release: str, namespace: str,
           values_files: list[Path], dry_run: bool, output: Path | None, timeout: str = "10m",
           compiled: Sequence[Any] = ()) -> DeployResult:
    from floe.k8s.render import render_chart

    values = values_from_manifest(manifest, products, compiled)
    objects = render_chart(CHART, values_files, values=values, release_name=release, namespace=namespace)
    written = None
    if output is not None:
        import yaml

        output.mkdir(parents=True, exist_ok=True)
        written = output / f"{release}.yaml"
        written.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    if dry_run:
        return DeployResult(objects, [], written)
    helm = shutil.which("helm")
    if helm is None:
        raise FloeError("the helm CLI is not installed, so nothing can be applied to a cluster",
                        hint="install helm, or use --dry-run (optionally with --output DIR) to render only")
    from floe.k8s.release import DeploySpec, plan_release

    vals = output or Path(".")
    values_file = vals / f"{release}-floe-values.json"
    values_file.write_text(json.dumps(values))
    spec = DeploySpec(release=release, chart=str(CHART), namespace=namespace, timeout=timeout,
                      values_files=(*[str(v) for v in values_files], str(values_file)))
    status = _helm_json(helm, ["status", release, "-n", namespace, "-o", "json"])
    history = _helm_json(helm, ["history", release, "-n", namespace, "-o", "json"]) if status else []
    plan = plan_release(status, history, spec)
    ran = []
    for cmd in plan.commands:
        argv = [helm, *cmd[1:]] if cmd and cmd[0] == "helm" else [helm, *cmd]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        ran.append(argv)
        if proc.returncode != 0:
            raise FloeError(f"`{' '.join(argv)}` failed ({plan.action}): {proc.stderr.strip()[:800]}",
                            hint=f"`helm history {release} -n {namespace}`; rerun deploy to recover")
    return DeployResult(objects, ran, written)


def _helm_json(helm: str, args: list[str]) -> Any:
    proc = subprocess.run([helm, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        if "not found" in proc.stderr:
            return None
        raise FloeError(f"`helm {' '.join(args)}` failed: {proc.stderr.strip()[:500]}")
    return json.loads(proc.stdout)
