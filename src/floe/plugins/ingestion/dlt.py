"""dlt ingestion: a product's sources become Iceberg tables in its ``<product>_raw`` namespace.

dlt reads and normalises each source (file, SQL table, HTTP API) into Parquet in a scratch folder
under the product's target; floe then commits each table to the product's own catalog with
PyIceberg, the same way every other floe table is written. So:

- the table lands in the product's catalog with the product's principal, on every manifest, with
  the governance table properties; dlt never sees a catalog or storage credential;
- every source is read before anything is committed: a source that cannot be read leaves every
  table as it was;
- no dlt bookkeeping tables (``_dlt_loads`` ...) appear in the raw namespace;
- dlt's state lives in the working folder floe gives it, never in ``~/.dlt``.

``dlt`` is imported only when a run ingests (about 1.5 s), never on the CLI or compile path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from floe.config._base import ProductName, SecretRef, Url
from floe.config.plugins import PluginConfig
from floe.contract import FloeModel
from floe.errors import FloeError, RuntimeFailure
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import IngestedTable, IngestionPlugin, SecretResolver

if TYPE_CHECKING:
    from floe.contract import ResolvedIngestion

_JSONL_BATCH = 5000


class SqlConnection(FloeModel):
    """A database dlt reads tables from (SQLAlchemy URL; the password is a secret reference)."""

    kind: Literal["sql"]
    url: str
    """SQLAlchemy URL without a password: ``postgresql://floe@db.internal:5432/crm``, ``sqlite:////data/crm.db``."""
    password: SecretRef | None = None
    db_schema: str | None = Field(default=None, alias="schema")
    """The schema tables are read from (default: the connection's)."""
    products: list[ProductName] | None = None
    """Products allowed to read through this connection (unset: every product)."""

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: object) -> object:
        # checked on the whole mapping, so that the error never echoes the url (and the password in it)
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and re.match(r"^[A-Za-z0-9+_.-]+://[^/@]*:[^/@]*@", url):
            raise ValueError("url carries a password; remove it from the url and reference it in `password` "
                             "(e.g. password: env:CRM_DB_PASSWORD); rotate it if it was committed")
        return data

    @field_validator("url")
    @classmethod
    def _sqlalchemy_url(cls, url: str) -> str:
        if "://" not in url:
            raise ValueError(f"url {url!r} is not a SQLAlchemy URL (dialect://user@host:port/database)")
        return url


class HttpConnection(FloeModel):
    """A JSON HTTP API dlt's REST client reads (pagination detected; bearer token as a reference)."""

    kind: Literal["http"]
    base_url: Url
    token: SecretRef | None = None
    """Sent as ``Authorization: Bearer <token>``."""
    products: list[ProductName] | None = None
    """Products allowed to read through this connection (unset: every product)."""


Connection = Annotated[SqlConnection | HttpConnection, Field(discriminator="kind")]


class DltConfig(PluginConfig):
    """``plugins.ingestion`` in manifest.yaml.

    ```yaml
    ingestion:
      type: dlt
      connections:            # what floe.yaml's sql/http sources name; platform-owned
        crm: {kind: sql, url: "postgresql://floe@crm.internal:5432/crm", password: env:CRM_DB_PASSWORD}
        fx_api: {kind: http, base_url: "https://fx.example.com/api", token: env:FX_API_TOKEN}
    ```
    """

    type: Literal["dlt"]
    connections: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Connection] = Field(
        default_factory=dict)


@dataclass(frozen=True)
class _Staged:
    source: ResolvedIngestion
    files: list[Path]
    origin: str


class DltIngestionPlugin(IngestionPlugin):
    name: ClassVar[str] = "dlt"
    description: ClassVar[str] = "dlt pipelines landing Iceberg tables in <product>_raw"
    config_model = DltConfig
    config: DltConfig | None

    def ingest(
        self,
        sources: Sequence[ResolvedIngestion],
        *,
        catalog_name: str,
        catalog_properties: Mapping[str, str],
        namespace: str,
        base_dir: Path,
        working_dir: Path,
        resolve: SecretResolver,
        table_properties: Mapping[str, str] | None = None,
    ) -> list[IngestedTable]:
        working_dir.mkdir(parents=True, exist_ok=True)
        with _dlt_environment(working_dir):
            staged = [self._stage(s, namespace=namespace, base_dir=base_dir, working_dir=working_dir,
                                  resolve=resolve) for s in sources]
        from floe._iceberg import open_catalog

        catalog = open_catalog(catalog_name, catalog_properties)
        try:
            return [_commit(catalog, st, table_properties or {}) for st in staged]
        finally:
            shutil.rmtree(working_dir / "staging", ignore_errors=True)

    # -- read: dlt extract + normalize + load into local Parquet ---------------------------------
    def _stage(self, source: ResolvedIngestion, *, namespace: str, base_dir: Path, working_dir: Path,
               resolve: SecretResolver) -> _Staged:
        import dlt

        bucket = working_dir / "staging" / source.name
        shutil.rmtree(bucket, ignore_errors=True)
        bucket.mkdir(parents=True)
        data, origin = self._resource(source, base_dir=base_dir, resolve=resolve)
        pipeline = dlt.pipeline(
            pipeline_name=f"{namespace}__{source.name}", pipelines_dir=str(working_dir / "pipelines"),
            destination=dlt.destinations.filesystem(bucket_url=bucket.as_uri()), dataset_name=namespace,
        )
        try:
            # floe applies the write disposition at the Iceberg commit; the scratch folder holds one run
            pipeline.run(data, table_name=source.name, loader_file_format="parquet", write_disposition="append")
        except Exception as exc:
            raise _source_failure(source, origin, exc) from None
        files = sorted((bucket / namespace / source.name).glob("*.parquet"))
        return _Staged(source, files, origin)

    def _resource(self, source: ResolvedIngestion, *, base_dir: Path, resolve: SecretResolver) -> tuple[Any, str]:
        """The dlt resource (or source) reading ``source``, and where it reads from (for messages)."""
        import dlt

        if source.source == "file":
            assert source.path is not None and source.format is not None
            path = (base_dir / source.path).resolve()
            shown = source.display_path or source.path
            reader = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}[source.format]
            resource = dlt.resource(reader(path, shown), name=source.name, max_table_nesting=0,
                                    primary_key=source.primary_key)
            return resource, f"file:{shown}"
        conn = self._connection(source)
        if isinstance(conn, SqlConnection):
            import sqlalchemy as sa
            from dlt.sources.sql_database import sql_table

            url = sa.engine.make_url(conn.url)
            if conn.password is not None:
                url = url.set(password=resolve(conn.password))  # in memory only: the engine holds it
            engine = sa.create_engine(url)
            resource = sql_table(credentials=engine, table=str(source.resource), schema=conn.db_schema,
                                 backend="pyarrow", reflection_level="full", primary_key=source.primary_key)
            return resource, f"sql:{source.connection}/{source.resource}"
        from dlt.sources.rest_api import rest_api_source

        client: dict[str, Any] = {"base_url": conn.base_url.rstrip("/") + "/"}
        if conn.token is not None:
            client["auth"] = {"type": "bearer", "token": resolve(conn.token)}
        endpoint: dict[str, Any] = {"path": str(source.resource).lstrip("/")}
        if source.data_selector:
            endpoint["data_selector"] = source.data_selector
        config: Any = {"client": client, "resources": [{"name": source.name, "endpoint": endpoint}]}
        api = rest_api_source(config, max_table_nesting=0)
        return api, f"http:{source.connection}/{source.resource}"

    def check_connection(self, kind: str, name: str, product: str) -> str | None:
        connections = self.config.connections if self.config else {}
        of_kind = sorted(n for n, c in connections.items() if c.kind == kind)
        conn = connections.get(name)
        if conn is None or conn.kind != kind:
            return (f"no {kind} connection named {name!r} in plugins.ingestion.connections "
                    f"(the {kind} connections are: {', '.join(of_kind) or 'none'})")
        if conn.products is not None and product not in conn.products:
            return f"connection {name!r} is not open to product {product!r} (it serves {', '.join(conn.products)})"
        return None

    def _connection(self, source: ResolvedIngestion) -> SqlConnection | HttpConnection:
        connections = self.config.connections if self.config else {}
        conn = connections.get(str(source.connection))
        if conn is None or conn.kind != source.source:
            raise RuntimeFailure(f"ingestion source {source.name!r}: no {source.source} connection "
                                 f"{source.connection!r} in plugins.ingestion.connections",
                                 hint="recompile against the manifest the run uses")
        return conn

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        import importlib.util

        if importlib.util.find_spec("dlt") is None:
            return HealthStatus(HealthState.UNHEALTHY, "the dlt package is not installed (pip install dlt)")
        return HealthStatus(HealthState.HEALTHY, f"dlt available; {len(self.config.connections)} connection(s)")


# -- file readers: errors name the file and the line ---------------------------------------------
class SourceDataError(FloeError):
    """A source file that cannot be read as its format."""


def _read_jsonl(path: Path, shown: str) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with _opened(path, shown) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceDataError(f"{shown} line {number}: not valid JSON ({exc.msg}, column {exc.colno})",
                                      hint="fix or remove the line; every line holds one JSON object") from None
            if not isinstance(row, dict):
                raise SourceDataError(f"{shown} line {number}: a JSON {type(row).__name__}, not an object",
                                      hint="every line of a JSON-lines file holds one JSON object")
            batch.append(row)
            if len(batch) >= _JSONL_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _read_csv(path: Path, shown: str) -> Iterator[Any]:
    import pyarrow.csv as pcsv

    with _opened(path, shown, binary=True) as fh:
        yield _arrow_read(lambda: pcsv.read_csv(fh), shown, "CSV with a header row")


def _read_parquet(path: Path, shown: str) -> Iterator[Any]:
    import pyarrow.parquet as pq

    with _opened(path, shown, binary=True) as fh:
        yield _arrow_read(lambda: pq.read_table(fh), shown, "a Parquet file")


def _arrow_read(read: Any, shown: str, what: str) -> Any:
    import pyarrow as pa

    try:
        return read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SourceDataError(f"{shown}: cannot be read as {what}: {str(exc).splitlines()[0][:300]}",
                              hint="fix the file, or set `format` in floe.yaml to what it holds") from None


@contextmanager
def _opened(path: Path, shown: str, *, binary: bool = False) -> Iterator[Any]:
    try:
        fh = path.open("rb") if binary else path.open(encoding="utf-8")
    except OSError as exc:
        raise SourceDataError(f"{shown}: cannot be opened ({exc.strerror or exc})",
                              hint="the file must exist in the product folder when the product runs") from None
    try:
        yield fh
    except UnicodeDecodeError as exc:
        raise SourceDataError(f"{shown}: not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    finally:
        fh.close()


def _source_failure(source: ResolvedIngestion, origin: str, exc: BaseException) -> RuntimeFailure:
    """dlt wraps what the source raised (PipelineStepFailed > ResourceExtractionError > ...): name the
    source and say the innermost reason, ours when it is ours."""
    reason: BaseException = exc
    seen: set[int] = set()
    while id(reason) not in seen:
        seen.add(id(reason))
        if isinstance(reason, FloeError):
            break
        inner = getattr(reason, "exception", None) or reason.__cause__ or reason.__context__
        if not isinstance(inner, BaseException):
            break
        reason = inner
    text = reason.message if isinstance(reason, FloeError) else f"{type(reason).__name__}: {reason}"
    hint = reason.hint if isinstance(reason, FloeError) and reason.hint else (
        "check the source; the tables in the raw namespace were left as they were")
    return RuntimeFailure(f"ingestion source {source.name!r} ({origin}) failed: {_first_lines(text)}", hint=hint)


def _first_lines(text: str, n: int = 3) -> str:
    return "\n".join(text.strip().splitlines()[:n])[:800]


# -- commit: one Iceberg commit per table through the product's catalog ---------------------------
def _commit(catalog: Any, staged: _Staged, properties: Mapping[str, str]) -> IngestedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from floe._iceberg import write_arrow

    source = staged.source
    if not staged.files:
        return IngestedTable(source.name, source.table, 0, origin=staged.origin)
    data = pa.concat_tables([pq.read_table(f) for f in staged.files], promote_options="default")
    data = data.drop_columns([c for c in ("_dlt_id",) if c in data.column_names])
    try:
        table = write_arrow(catalog, source.table, data, mode=source.write_disposition,
                            join_cols=source.primary_key, properties=properties)
    except FloeError:
        raise
    except Exception as exc:
        raise RuntimeFailure(f"ingestion source {source.name!r} ({staged.origin}): committing {source.table} "
                             f"failed: {type(exc).__name__}: {_first_lines(str(exc))}",
                             hint="an access error: check that the product's principal may write its raw "
                                  "namespace in the catalog and the storage; a type change of an existing "
                                  "column: drop the table first") from exc
    snapshot = table.current_snapshot()
    return IngestedTable(
        source.name, source.table, data.num_rows,
        tuple((f.name, str(f.field_type)) for f in table.schema().fields),
        snapshot.snapshot_id if snapshot is not None else None, staged.origin,
    )


@contextmanager
def _dlt_environment(working_dir: Path) -> Iterator[None]:
    """dlt reads its settings from the environment: keep its files under ``working_dir`` (not
    ``~/.dlt``, nor a ``.dlt`` folder of the current directory), send no telemetry, log warnings only."""
    wanted = {
        "DLT_DATA_DIR": str(working_dir / "home"),
        "DLT_PROJECT_DIR": str(working_dir),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "WARNING",
        "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
        "LOAD__DELETE_COMPLETED_JOBS": "true",  # the rows are in Iceberg; keep no second copy here
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
