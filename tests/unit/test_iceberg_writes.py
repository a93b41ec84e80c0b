"""write_arrow as a per-product principal meets it: its namespaces exist (the platform made them) and it
may not create others; a catalog's 403/401 reads as floe's error naming the catalog and the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import ForbiddenError, UnauthorizedError

from floe._iceberg import write_arrow
from floe.errors import AuthenticationError, AuthorizationError

pytestmark = pytest.mark.requirement("FLOE-INGESTION")

ROWS = pa.table({"event_id": ["e1", "e2"], "n": [1, 2]})


class _Principal(SqlCatalog):
    """A catalog that refuses namespace creation, as the product's principal is refused."""

    def create_namespace(self, namespace: Any, properties: Any = None) -> None:
        raise ForbiddenError("principal floe-customer-360 may not create namespaces")


def _catalog(tmp_path: Path, cls: type[SqlCatalog] = SqlCatalog) -> SqlCatalog:
    return cls("floe-test", uri=f"sqlite:///{tmp_path / 'c.db'}", warehouse=(tmp_path / "w").as_uri())


def test_an_existing_namespace_is_not_created_again(tmp_path: Path) -> None:
    _catalog(tmp_path).create_namespace("customer_360_raw")  # as the platform's bootstrap does
    table = write_arrow(_catalog(tmp_path, _Principal), "customer_360_raw.raw_web_events", ROWS)
    assert table.scan().to_arrow().num_rows == 2


def test_a_refused_write_names_the_catalog_and_the_table(tmp_path: Path) -> None:
    with pytest.raises(AuthorizationError) as err:
        write_arrow(_catalog(tmp_path, _Principal), "other_raw.raw_web_events", ROWS)
    assert "refused writing other_raw.raw_web_events" in err.value.message
    assert "sqlite:///" in err.value.message and "principal" in str(err.value.hint)


def test_rejected_credentials_are_an_authentication_error(tmp_path: Path) -> None:
    class Expired(SqlCatalog):
        def namespace_exists(self, namespace: Any) -> bool:
            raise UnauthorizedError("token expired")

    with pytest.raises(AuthenticationError) as err:
        write_arrow(_catalog(tmp_path, Expired), "customer_360_raw.raw_web_events", ROWS)
    assert "rejected the credentials (writing customer_360_raw.raw_web_events)" in err.value.message


def test_an_unreachable_catalog_is_named_by_its_address(tmp_path: Path) -> None:
    from requests.exceptions import ConnectionError as Unreachable

    from floe.errors import ServiceUnavailableError

    class Down(SqlCatalog):
        def namespace_exists(self, namespace: Any) -> bool:
            raise Unreachable("Connection refused")

    with pytest.raises(ServiceUnavailableError) as err:
        write_arrow(_catalog(tmp_path, Down), "customer_360_raw.raw_web_events", ROWS)
    assert "sqlite:///" in err.value.message and "cannot be reached (writing customer_360_raw" in err.value.message
    assert "floe platform status" in str(err.value.hint)
