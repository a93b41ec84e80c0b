from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_serializer, model_validator

from floe.contract import FloeModel

SEMVER = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$"
PRODUCT_NAME = r"^[a-z][a-z0-9-]*[a-z0-9]$"

SemVer = Annotated[str, StringConstraints(pattern=SEMVER)]
ProductName = Annotated[str, StringConstraints(pattern=PRODUCT_NAME, max_length=63)]


class SecretRef(FloeModel):
    """Where a secret lives; the value itself is resolved at runtime by the secrets plugin.

    Written in YAML as ``env:NAME``, ``file:/path`` or ``k8s:secret-name/key``, or as a mapping.
    """

    source: Literal["env", "file", "k8s"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=253)]

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        if isinstance(data, str):
            source, sep, name = data.partition(":")
            if not sep or not name:
                raise ValueError(
                    f"secret reference {data!r} must look like 'env:NAME', 'file:/path' or 'k8s:secret/key'"
                )
            return {"source": source, "name": name}
        return data

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_./:-]+", value):
            raise ValueError(f"secret name {value!r} may contain only letters, digits and _ . / : -")
        return value

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"

    @model_serializer
    def _as_string(self) -> str:
        # Artifacts and logs carry the reference in the same short form users write.
        return str(self)


Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]
Positive = Annotated[int, Field(ge=1)]
