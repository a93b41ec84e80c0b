"""floe.yaml: what a data team declares about one data product. Nothing about infrastructure."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from floe.config._base import ProductName, SemVer
from floe.config.governance import ProductGovernance
from floe.contract import FloeModel
from floe.contract.semantic import SemanticSpec

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
Tier = Literal["bronze", "silver", "gold"]


class ProductMetadata(FloeModel):
    name: ProductName
    version: SemVer
    owner: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class PlatformRef(FloeModel):
    manifest: str = "../manifest.yaml"


class TransformSpec(FloeModel):
    """Per-model declarations; the SQL, refs and tests stay in the dbt project."""

    name: ModelName
    tier: Tier
    compute: str | None = None
    tags: list[str] = Field(default_factory=list)
    depends_on: list[ModelName] | None = Field(default=None, alias="dependsOn")


class ScheduleSpec(FloeModel):
    cron: str
    timezone: str = "UTC"
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        fields = cron.split()
        if len(fields) != 5:
            raise ValueError(f"cron {cron!r} must have 5 fields (minute hour day month weekday)")
        return cron

    @field_validator("timezone")
    @classmethod
    def _iana(cls, tz: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
            raise ValueError(f"timezone {tz!r} is not an IANA time zone (e.g. UTC, Europe/Paris)") from exc
        return tz


class SensorSpec(FloeModel):
    """Run the product when a file appears / changes (a Dagster sensor with an explicit job)."""

    name: ModelName
    watch_path: str
    minimum_interval_seconds: Annotated[int, Field(ge=5)] = 30


class DbtProjectRef(FloeModel):
    project_dir: str = "."


class FloeSpec(FloeModel):
    api_version: Literal["floe.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["FloeSpec"]
    metadata: ProductMetadata
    platform: PlatformRef = Field(default_factory=PlatformRef)
    dbt: DbtProjectRef = Field(default_factory=DbtProjectRef)
    transforms: list[TransformSpec] = Field(default_factory=list)
    schedule: ScheduleSpec | None = None
    sensors: list[SensorSpec] = Field(default_factory=list)
    governance: ProductGovernance = Field(default_factory=ProductGovernance)
    semantic: SemanticSpec | None = None

    @field_validator("transforms")
    @classmethod
    def _unique_transforms(cls, transforms: list[TransformSpec]) -> list[TransformSpec]:
        seen: set[str] = set()
        for t in transforms:
            if t.name in seen:
                raise ValueError(f"transform {t.name!r} is declared twice")
            seen.add(t.name)
        return transforms
