import os
import sys
from pathlib import Path

import pytest

from devkit.servers import SMTPServer
from municipalities.locate import boundary_index_invalidate
from municipalities.tenancy import tenant_cache_clear
from reports.map import map_changed
from tests.support import factories

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from the geography and a small world (see
    tests.support.factories), not the demo data; its changes are rolled back."""
    with django_db_blocker.unblock():
        factories.geography()
        factories.small_world()


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
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        yield server


# --- A test that hangs ------------------------------------------------------------
# pytest-timeout fails a test that hangs and the run goes on; but what hung (an
# event loop that never closes, on a thread of its own) is still there at the end,
# and Python waits for such threads before it exits: the run would last until CI's
# time is up. So once a test has timed out, the process ends as soon as pytest has
# reported everything.

_run = {"timed_out": False, "exit_status": 1}


def pytest_runtest_logreport(report):
    if report.failed and "from pytest-timeout" in report.longreprtext:
        _run["timed_out"] = True


def pytest_sessionfinish(session, exitstatus):
    _run["exit_status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _run["timed_out"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_run["exit_status"])
