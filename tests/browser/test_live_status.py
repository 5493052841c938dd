"""A visitor on a phone has a report's page open when Malmö's case system signals
that work has started: the page shows the new status and the note at once,
without a reload, and a screen reader announces them."""

import pytest
from playwright.sync_api import expect

from devkit.instance import free_port, profile_env, running_site
from devkit.webhooks import make_secret
from tests.support.instance import signal_post, webhook_reports

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_LIVE"
NOTE = "Arbetet har påbörjats; en ny armatur sätts upp i veckan."


def test_a_status_signal_shows_on_the_open_report_page(phone, artifacts, tmp_path):
    port = free_port()
    secret = make_secret()
    with (
        profile_env(
            tmp_path / "var",
            **{SECRET_ENV: secret},
            # No traffic leaves the machine: tiles come from our own server (and 404).
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
        ) as env,
        running_site(env, port),
    ):
        connection_id, (report_id,) = webhook_reports(env, SECRET_ENV)
        page = phone.new_page()
        page.goto(f"http://localhost:{port}/rapporter/{report_id}/")
        status = page.locator("#report-status")
        expect(status).to_have_text("Öppen")
        expect(page.locator("#timeline")).not_to_contain_text(NOTE)
        page.locator("article[data-live-state=open]").wait_for(timeout=10_000)
        # Anything a reload would lose: a marker, and the document's start time.
        started = page.evaluate(
            "() => { window.liveMarker = 'before-signal'; return performance.timeOrigin; }"
        )

        answer_status, answer = signal_post(
            port,
            connection_id,
            {"report_id": report_id, "status": "in_progress", "note": NOTE},
            secret,
        )
        assert answer_status == 202, answer

        expect(status).to_have_text("Pågår", timeout=5_000)
        expect(status).to_have_class("status status-in_progress")
        event = page.locator(f"#timeline [data-event-id='{answer['event_id']}']")
        expect(event).to_contain_text(NOTE, timeout=5_000)
        expect(event).to_contain_text("Pågår")
        expect(page.locator("#timeline li", has_text=NOTE)).to_have_count(1)
        # Screen readers hear it, politely, once.
        live = page.locator("#report-live")
        assert live.get_attribute("aria-live") == "polite"
        expect(live).to_have_text(f"Nytt om felanmälan: Ny status: Pågår {NOTE}")
        assert page.locator("[aria-live]").count() == 1
        assert page.evaluate(
            "() => [window.liveMarker, performance.timeOrigin,"
            " performance.getEntriesByType('navigation').length]"
        ) == ["before-signal", started, 1]
        page.screenshot(path=str(artifacts / "live-status.png"), full_page=True)
