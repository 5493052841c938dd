import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.instance import free_port, profile_env, running_site
from devkit.servers import SMTPServer

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("KNUTPUNKT_CHROMIUM", "/usr/bin/chromium")


# Module scope: Playwright's sync API keeps an event loop on this thread while it
# runs, which async code in later tests must not find there.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A 390×844 touch screen, as on a common phone."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="sv-SE",
    )
    yield context
    context.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True)
class MailedSite:
    """A running instance with the demo, its e-mail caught by ``smtp``; ``env``
    runs commands in it (``devkit.instance.shell``)."""

    port: int
    env: dict
    smtp: SMTPServer

    def url(self, host: str = "malmo.localhost") -> str:
        """The root of a site of the instance (Malmö's unless told)."""
        return f"http://{host}:{self.port}"


@pytest.fixture
def site_settings() -> dict:
    """Settings of ``mailed_site``'s instance beyond its own: a test module
    overrides this fixture to set its own (environment names and values)."""
    return {}


@pytest.fixture
def mailed_site(tmp_path, site_settings):
    """An instance of the profile this suite runs on, served with the demo,
    whose e-mail goes to a loopback SMTP server and whose maps ask our own
    server for tiles."""
    port = free_port()
    with (
        SMTPServer() as smtp,
        profile_env(
            tmp_path / "var",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp.port),
            # No traffic leaves the machine: tiles come from our own server (and 404).
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
            **site_settings,
        ) as env,
        running_site(env, port),
    ):
        yield MailedSite(port=port, env=env, smtp=smtp)
