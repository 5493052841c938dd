import pytest

from devkit.servers import Open311Server


@pytest.fixture
def open311():
    """A GeoReport v2 case system on loopback, with the default service list."""
    with Open311Server() as server:
        yield server
