import pytest

from devkit.servers import NominatimServer


@pytest.fixture
def nominatim(settings, request):
    """A loopback geocoder that knows the test module's ``PLACES``, as ours."""
    with NominatimServer(request.module.PLACES) as server:
        settings.KNUTPUNKT_GEOCODER = {
            "domain": server.domain,
            "scheme": "http",
            "user_agent": "knutpunkt-tests",
            "timeout": 2.0,
        }
        yield server
