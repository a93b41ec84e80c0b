"""floe.yaml: what a data team declares about one data product. Nothing about infrastructure."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

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


IngestionFormat = Literal["jsonl", "csv", "parquet"]
WriteDisposition = Literal["replace", "append", "merge"]
_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class IngestionSpec(FloeModel):
    """One table the product loads into its ``<product>_raw`` namespace before dbt runs.

    ``source: file`` reads a file inside the product folder. ``sql`` and ``http`` read through a
    connection the platform team names in manifest.yaml (``plugins.ingestion.connections``): where the
    database or API lives, and its credentials, never appear in floe.yaml.

    ```yaml
    ingestion:
      - {name: raw_web_events, source: file, path: data/web_events.jsonl, primary_key: event_id}
      - {name: raw_accounts, source: sql, connection: crm, table: accounts, write_disposition: merge,
         primary_key: account_id}
      - {name: raw_rates, source: http, connection: fx_api, resource: v1/rates, data_selector: data}
    ```
    """

    name: ModelName
    """The Iceberg table in ``<product>_raw`` (and the dbt source table name)."""
    source: Literal["file", "sql", "http"]
    path: str | None = None
    """file: relative to the product folder, inside it."""
    format: IngestionFormat | None = None
    """file: jsonl, csv or parquet; default from the file's extension."""
    connection: ModelName | None = None
    """sql/http: a connection named in the manifest's ``plugins.ingestion.connections``."""
    table: str | None = None
    """sql: the table to read (``schema.table`` is not allowed: the connection picks the schema)."""
    resource: str | None = None
    """http: the path below the connection's base URL (e.g. ``v1/rates``)."""
    data_selector: str | None = None
    """http: JSONPath of the records in each response (default: detected)."""
    write_disposition: WriteDisposition = "replace"
    """replace: the table holds this run's rows; append: rows are added; merge: upsert on primary_key."""
    primary_key: list[ModelName] = Field(default_factory=list)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fields_of_the_source(self) -> IngestionSpec:
        wanted = {"file": {"path"}, "sql": {"connection", "table"}, "http": {"connection", "resource"}}[self.source]
        optional = {"file": {"format"}, "sql": set(), "http": {"data_selector"}}[self.source]
        for key in sorted(wanted):
            if getattr(self, key) is None:
                raise ValueError(f"source {self.source!r} needs `{key}` (source {self.source} reads "
                                 f"{', '.join(sorted(wanted))}); add it")
        extra = sorted(k for k in ("path", "format", "connection", "table", "resource", "data_selector")
                       if getattr(self, k) is not None and k not in wanted | optional)
        if extra:
            raise ValueError(f"source {self.source!r} does not read {', '.join(extra)}; remove "
                             f"{'it' if len(extra) == 1 else 'them'} (source {self.source} reads "
                             f"{', '.join(sorted(wanted | optional))})")
        if self.write_disposition == "merge" and not self.primary_key:
            raise ValueError("write_disposition merge needs `primary_key` (the column(s) rows are matched on); "
                             "add it, or use replace or append")
        if self.path is not None and self.format is None:  # a file source (checked above: only it has a path)
            suffix = Path(str(self.path)).suffix.lower()
            if suffix not in _FORMATS:
                raise ValueError(f"cannot tell the format of {self.path!r} from its extension; set "
                                 f"`format` to one of jsonl, csv, parquet")
            object.__setattr__(self, "format", _FORMATS[suffix])
        return self


class QualityCheckSpec(FloeModel):
    """A check file for one model, verified by the platform's quality plugin (soda: a data contract)
    after the models ran and before the run publishes them."""

    model: ModelName
    file: str
    """Relative to the product folder."""


class QualitySpec(FloeModel):
    """Checks beyond the dbt project's own tests (``schema.yml``), which always run."""

    checks: list[QualityCheckSpec] = Field(default_factory=list)
    allow_empty: list[ModelName] = Field(default_factory=list)
    """Seeds and models a run may leave empty; a run that would empty any other published table that
    had rows fails before publishing."""

    @field_validator("checks")
    @classmethod
    def _one_file_per_model(cls, checks: list[QualityCheckSpec]) -> list[QualityCheckSpec]:
        twice = _first_duplicate(c.model for c in checks)
        if twice is not None:
            raise ValueError(f"model {twice!r} has two check files; put its checks in one")
        return checks


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
    ingestion: list[IngestionSpec] = Field(default_factory=list)
    quality: QualitySpec = Field(default_factory=QualitySpec)

    @field_validator("transforms", "ingestion")
    @classmethod
    def _unique_names(cls, items: list[TransformSpec] | list[IngestionSpec], info: ValidationInfo) -> list[Any]:
        what = {"transforms": "transform", "ingestion": "ingestion table"}[str(info.field_name)]
        twice = _first_duplicate(item.name for item in items)
        if twice is not None:
            raise ValueError(f"{what} {twice!r} is declared twice; give each its own name")
        return items


def _first_duplicate(names: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None
