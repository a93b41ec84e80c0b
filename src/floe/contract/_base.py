from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FloeModel(BaseModel):
    """Base for every floe contract: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
