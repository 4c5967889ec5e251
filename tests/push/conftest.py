"""The push tests' service: on a database of its own, retrying fast."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from tests.conftest import serve
from tests.factories import FAST


@pytest.fixture
def service(empty_database: str) -> Iterator[TestClient]:
    """The service on a database of its own, retrying fast."""
    upgrade_database(empty_database)
    with serve(empty_database, **FAST) as client:
        yield client
