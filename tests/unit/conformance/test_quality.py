"""Quality: the selector is a dbt command line dbt accepts, selecting the checks of the given models."""

from __future__ import annotations

import pytest

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

MODELS = ["stg_orders", "mart_customers"]


def _parse(args: list[str]) -> tuple[str, dict[str, object]]:
    """dbt's own command-line parser (no dbt run): the subcommand and its parsed options."""
    from dbt.cli.main import cli

    ctx = cli.make_context("dbt", [], resilient_parsing=True)
    name, cmd, rest = cli.resolve_command(ctx, list(args))  # an unknown command raises UsageError
    assert cmd is not None and name is not None
    sub = cmd.make_context(name, rest, parent=ctx)
    return name, sub.params


@pytest.mark.parametrize("name", params(PluginType.QUALITY))
def test_selector_is_a_dbt_command_for_the_models(name: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_PROFILES_DIR", str(sandbox.tmp))  # dbt's parser checks the folder exists
    args = sandbox.create(PluginType.QUALITY, name).dbt_test_selector(MODELS)
    assert all(isinstance(a, str) for a in args)
    command, options = _parse(args)
    assert command in {"test", "build"}
    selected = " ".join(str(s) for s in (options.get("select") or ()))
    assert all(m in selected for m in MODELS), f"{args} does not select {MODELS}"


@pytest.mark.parametrize("name", params(PluginType.QUALITY))
def test_no_models_is_still_a_command(name: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_PROFILES_DIR", str(sandbox.tmp))
    args = sandbox.create(PluginType.QUALITY, name).dbt_test_selector([])
    command, _ = _parse(args)
    assert command in {"test", "build"}
