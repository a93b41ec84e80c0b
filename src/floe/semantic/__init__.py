"""floe's semantic layer: metrics and dimensions declared in floe.yaml, answered by MetricFlow.

Importing this package is cheap (pydantic models only); MetricFlow, DuckDB and PyIceberg load when a
query runs.
"""

from floe.semantic.config import Dimension, Entity, Measure, Metric, SemanticModel, SemanticSpec
from floe.semantic.query import QueryRequest, QueryResult, SemanticQueryError, run_query
from floe.semantic.validate import validate_semantic

__all__ = [
    "Dimension",
    "Entity",
    "Measure",
    "Metric",
    "QueryRequest",
    "QueryResult",
    "SemanticModel",
    "SemanticQueryError",
    "SemanticSpec",
    "run_query",
    "validate_semantic",
]
