"""Follow a dbt invocation's events; after success, publish the results where the manifest says.

On the embedded default, tables are copied into the SQLite-backed Iceberg catalog here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from floe.runtime.context import RunContext


class ModelRunObserver:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.exported: list[Any] = []

    def watch(self, events: Iterator[Any]) -> Iterator[Any]:
        yield from events

    def publish(self) -> None:
        """Embedded default: copy every seed and model table into Iceberg."""
        if self.ctx.artifacts.dbt.vars.get("floe_materialized") != "table":
            return  # models were written to Iceberg by dbt itself (platform)
        from floe.runtime.iceberg import export_tables

        ident = self.ctx.artifacts.identity
        names = [(ident.raw_namespace, s) for s in self.ctx.artifacts.transforms.seeds]
        names += [(ident.namespace, m.name) for m in self.ctx.artifacts.transforms.models]
        self.exported = export_tables(self.ctx, names)


@contextmanager
def model_run_observer(ctx: RunContext) -> Iterator[ModelRunObserver]:
    yield ModelRunObserver(ctx)


def run_results(ctx: RunContext) -> list[dict[str, Any]]:
    from floe.runtime.dagster import dbt_target_path

    path = dbt_target_path(ctx) / "run_results.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["results"])
