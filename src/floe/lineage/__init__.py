"""OpenLineage events for compile and runtime, through openlineage-python's transports."""

from floe.lineage.emitter import LineageEmitter, TableRef

__all__ = ["LineageEmitter", "TableRef"]
