from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from floe.config.plugins import PluginConfig
from floe.errors import PluginError
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import DbtPlugin, DbtResult


class DbtCoreConfig(PluginConfig):
    type: Literal["core"]
    threads: Annotated[int, Field(ge=1, le=64)] | None = None


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed; run `make setup`")
    return found


class DbtCorePlugin(DbtPlugin):
    """dbt-core (1.11) run as a subprocess so every invocation starts from a clean state."""

    name: ClassVar[str] = "core"
    description: ClassVar[str] = "dbt-core 1.11"
    config_model = DbtCoreConfig

    def invoke(
        self, args: Sequence[str], *, project_dir: Path, profiles_dir: Path, env: Mapping[str, str] | None = None
    ) -> DbtResult:
        cmd = [dbt_executable(), *args, "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir)]
        full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=project_dir, check=False)
        results: list[dict[str, object]] = []
        run_results = project_dir / "target" / "run_results.json"
        if run_results.exists() and args and args[0] in {"run", "seed", "test", "build"}:
            results = json.loads(run_results.read_text())["results"]
        return DbtResult(success=proc.returncode == 0, command=" ".join(args), results=results,
                         message=proc.stdout[-4000:] + proc.stderr[-2000:])

    def executable(self) -> str:
        try:
            return dbt_executable()
        except FileNotFoundError as exc:
            raise PluginError(str(exc), plugin=self.name, version=self.version) from None

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        try:
            exe = dbt_executable()
        except FileNotFoundError as exc:
            return HealthStatus(HealthState.UNHEALTHY, str(exc))
        return HealthStatus(HealthState.HEALTHY, exe)
