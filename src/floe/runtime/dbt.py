"""dbt for one product's run: its target folder, its environment and its parsed manifest."""

from __future__ import annotations

import os
from pathlib import Path

from floe.runtime.context import RunContext


def dbt_target_path(ctx: RunContext) -> Path:
    return ctx.out_dir / "dbt"


def prepare_dbt_env(ctx: RunContext) -> dict[str, str]:
    """Environment every dbt invocation of this product gets (also exported for code servers)."""
    env = {**ctx.dbt_env(), "DBT_TARGET_PATH": str(dbt_target_path(ctx)), "DBT_LOG_PATH": str(ctx.out_dir / "logs")}
    os.environ.update(env)
    return env


def ensure_dbt_manifest(ctx: RunContext) -> Path:
    """dbt's manifest.json for this compile, produced by `dbt parse` when missing or stale."""
    from floe.errors import RuntimeFailure

    manifest = dbt_target_path(ctx) / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= ctx.artifacts_path.stat().st_mtime:
        return manifest
    result = ctx.dbt_plugin().invoke(["parse", *ctx.dbt_vars_arg()], project_dir=ctx.project_dir,
                                     profiles_dir=ctx.out_dir, env=prepare_dbt_env(ctx))
    if not result.success:
        raise RuntimeFailure(f"dbt parse failed for {ctx.artifacts.metadata.product_name}:\n{result.message}")
    return manifest
