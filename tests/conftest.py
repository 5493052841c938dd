import io
from pathlib import Path

import pytest
from django.core.management import call_command

from municipalities.locate import boundary_index_invalidate
from municipalities.tenancy import tenant_cache_clear
from reports.map import map_changed

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from the demo state: 290 kommuner with sites and the
    packaged boundaries; each test's changes are rolled back."""
    with django_db_blocker.unblock():
        call_command("load_demo", domain="localhost", port=80, stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _fresh_boundary_index():
    # Generations written inside a rolled-back test transaction can reuse ids, so
    # the process-wide index cache must not outlive a test.
    boundary_index_invalidate()
    tenant_cache_clear()
    # Tests write reports directly, not through the services that announce changes.
    map_changed()
    yield
    boundary_index_invalidate()
    tenant_cache_clear()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared reference data folder is not present")
    return SHARED_DATA


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    from devkit.servers import SMTPServer

    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        yield server
