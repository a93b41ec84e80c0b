"""floe's semantic layer: metrics and dimensions declared in floe.yaml, answered by MetricFlow.

The ``semantic:`` section itself is part of the contract (``floe.contract.semantic``). Importing this
package is cheap (pydantic models only); MetricFlow, DuckDB and PyIceberg load when a
query runs.
"""

from floe.plugins.semantic.query import QueryRequest, QueryResult, SemanticQueryError, run_query
from floe.semantic.validate import validate_semantic

__all__ = [
    "QueryRequest",
    "QueryResult",
    "SemanticQueryError",
    "run_query",
    "validate_semantic",
]
