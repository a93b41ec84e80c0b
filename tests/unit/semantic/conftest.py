from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import DEMO

from floe.config.loader import load_model
from floe.contract import FloeModel
from floe.contract.semantic import SemanticSpec


class SemanticDoc(FloeModel):
    """Just the `semantic:` key, loaded like floe.yaml so errors carry the same key paths."""

    semantic: SemanticSpec


def demo_semantic(product: str) -> SemanticSpec:
    return SemanticSpec.model_validate(yaml.safe_load((DEMO / product / "floe.yaml").read_text())["semantic"])


def load_semantic(tmp_path: Path, semantic: dict[str, Any]) -> SemanticSpec:
    path = tmp_path / "floe.yaml"
    path.write_text(yaml.safe_dump({"semantic": semantic}, sort_keys=False))
    return load_model(path, SemanticDoc).semantic


@pytest.fixture
def shop() -> dict[str, Any]:
    """A small valid section: orders (foreign customer) joined to customers."""
    return {
        "models": [
            {"name": "customers", "model": "mart_customers",
             "entities": [{"name": "customer", "column": "customer_id"}],
             "dimensions": [{"name": "segment"}, {"name": "signup_date", "type": "time"}],
             "measures": [{"name": "customer_rows", "agg": "count"}]},
            {"name": "orders", "model": "stg_orders",
             "entities": [{"name": "order", "column": "order_id"},
                          {"name": "customer", "type": "foreign", "column": "customer_id"}],
             "dimensions": [{"name": "region"}, {"name": "order_date", "type": "time", "granularity": "day"}],
             "measures": [{"name": "revenue", "agg": "sum", "column": "amount"},
                          {"name": "order_rows", "agg": "count"},
                          {"name": "buyers", "agg": "count_distinct", "column": "customer_id"},
                          {"name": "avg_amount", "agg": "avg", "column": "amount"}]},
        ],
        "metrics": [
            {"name": "revenue", "measure": "revenue", "description": "Order value"},
            {"name": "orders", "measure": "order_rows"},
            {"name": "customers", "measure": "customer_rows"},
            {"name": "buyers", "measure": "buyers"},
            {"name": "avg_amount", "measure": "avg_amount"},
            {"name": "revenue_per_order", "expression": "revenue / nullif(orders, 0)"},
        ],
    }
