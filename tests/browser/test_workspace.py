"""The staff workspace in Chromium, as its people use it:

- a case handler opens a report that went to the street department's own case
  system (a signed webhook), sets "in progress" with a response template's reply;
  the reporter's open page shows it live, and the case system receives the
  update, signed; an internal note appears nowhere public;
- a contact-centre agent finds the caller's report by its street and by the
  case system's reference, and adds a note."""

import json

import pytest
from playwright.sync_api import expect

from devkit.instance import free_port, profile_env, running_site, shell
from devkit.servers import NominatimServer, WebhookReceiver
from devkit.webhooks import make_secret

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET_ENV = "KNUTPUNKT_CONNECTION_SECRET_WORKSPACE"
PASSWORD = "arbetsyta-test-losenord-1"  # noqa: S105 (a throwaway instance's accounts)
POINT = (55.6010, 13.0040)
PLACES = [{"name": "Kalendegatan 12, Malmö, Sverige", "lat": POINT[0], "lon": POINT[1]}]
NOTE = "Intern: kabelfel, elnätet kontaktat"

SETUP = """
from django.contrib.auth import get_user_model
from municipalities.choices import ConnectionKind
from municipalities.models import Municipality
from tests.support.casehub import confirmed_report, connect
from workspace.models import ResponseTemplate
for name in ("malmo-handlaggare", "malmo-kundcenter"):
    user = get_user_model().objects.get(username=name)
    user.set_password({password!r}); user.save()
ResponseTemplate.objects.create(
    municipality=Municipality.objects.get(code="1280"), name="Arbete påbörjat",
    status="in_progress", text="Hej! Vi har börjat med {{rapport}} i {{kommun}}.",
)
connect(ConnectionKind.WEBHOOK, endpoint={endpoint!r}, secret_env={secret_env!r})
report = confirmed_report(point={point!r}, title="Släckt lykta vid porten")
print(report.pk)
"""


def sign_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")
    return page


def test_a_handler_works_an_outside_case_systems_report_and_an_agent_finds_it(
    browser, phone, artifacts, tmp_path
):
    port = free_port()
    secret = make_secret()
    with (
        WebhookReceiver(secret) as case_system,
        NominatimServer(PLACES) as geocoder,
        profile_env(
            tmp_path / "var",
            **{SECRET_ENV: secret},
            KNUTPUNKT_TILE_URL=f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
            KNUTPUNKT_GEOCODER_DOMAIN=geocoder.domain,
            KNUTPUNKT_GEOCODER_SCHEME="http",
        ) as env,
        running_site(env, port),
    ):
        (report_id,) = shell(
            env,
            SETUP.format(
                password=PASSWORD,
                endpoint=case_system.url,
                secret_env=SECRET_ENV,
                point=POINT,
            ),
        )
        assert case_system.wait_for_deliveries(1, timeout=30)
        reference = "WH-1"  # the receiver's case number for its first case
        base = f"http://localhost:{port}"

        # The reporter follows the report on a phone.
        reporter = phone.new_page()
        reporter.goto(f"{base}/rapporter/{report_id}/")
        reporter.locator("article[data-live-state=open]").wait_for(timeout=10_000)
        status = reporter.locator("#report-status")
        expect(status).to_have_text("Öppen")

        # The case handler works it in the admin, with the kommun's template.
        staff = browser.new_context(locale="sv-SE")
        handler = sign_in(staff, base, "malmo-handlaggare")
        handler.goto(f"{base}/admin/inbox/{report_id}/")
        expect(handler.locator("main")).to_contain_text(reference)
        handler.get_by_role("link", name="Arbete påbörjat").click()
        status_form = handler.locator("form:has(input[name=action][value=status])")
        reply = f"Hej! Vi har börjat med #{report_id} Släckt lykta vid porten i Malmö."
        expect(status_form.locator("textarea")).to_have_value(reply)
        expect(status_form.locator("select")).to_have_value("in_progress")
        status_form.get_by_role("button", name="Spara status").click()
        expect(handler.locator("main")).to_contain_text(reply)

        # Live on the reporter's page, without a reload.
        expect(status).to_have_text("Pågår", timeout=5_000)
        expect(reporter.locator("#timeline")).to_contain_text(reply)

        # The case system hears it, signed (the receiver verifies every delivery).
        assert case_system.wait_for_deliveries(2, timeout=30)
        update = case_system.received[1]["json"]
        assert update["type"] == "report.updated", update
        assert json.dumps(update, ensure_ascii=False).count("in_progress") >= 1
        assert reply in json.dumps(update, ensure_ascii=False)
        assert case_system.rejected == []

        # An internal note: on the staff screen, nowhere public, not sent on.
        note_form = handler.locator("form:has(input[name=action][value=note])")
        note_form.locator("textarea").fill(NOTE)
        note_form.get_by_role("button", name="Lägg till intern anteckning").click()
        expect(handler.locator("main")).to_contain_text(NOTE)
        handler.screenshot(
            path=str(artifacts / "workspace-handler.png"), full_page=True
        )
        reporter.wait_for_timeout(1_000)
        expect(reporter.locator("body")).not_to_contain_text(NOTE)
        reporter.reload()
        expect(reporter.locator("#timeline")).to_contain_text(reply)
        expect(reporter.locator("body")).not_to_contain_text(NOTE)
        assert len(case_system.received) == 2

        # The contact centre: a caller names the street, then the reference.
        agent_context = browser.new_context(locale="sv-SE")
        agent = sign_in(agent_context, base, "malmo-kundcenter")
        # The report's street is looked up by a task after it was saved (on a
        # busy machine the worker may not have got to it yet): wait until kept.
        (kept,) = shell(
            env,
            "import time; from reports.models import Report\n"
            "for _ in range(120):\n"
            f"    a = Report.objects.get(pk={report_id}).address\n"
            "    if a: break\n"
            "    time.sleep(0.5)\n"
            "print('kept' if 'Kalendegatan' in a else 'missing:' + repr(a))",
        )
        assert kept == "kept", kept
        # The search box sits in the inbox's filter drawer; its query string:
        agent.goto(f"{base}/admin/inbox/?q=kalendegatan")
        row = agent.get_by_role("link", name=f"#{report_id} Släckt lykta vid porten")
        expect(row).to_be_visible()
        agent.goto(f"{base}/admin/inbox/?q={reference}")
        row.click()
        expect(agent.locator("main")).to_contain_text("Kalendegatan 12")
        agent_note = "Ringde och frågade; fick svar om arbetet."
        note_form = agent.locator("form:has(input[name=action][value=note])")
        note_form.locator("textarea").fill(agent_note)
        note_form.get_by_role("button", name="Lägg till intern anteckning").click()
        expect(agent.locator("main")).to_contain_text(agent_note)
        # The agent changes nothing of the body's: no status form is offered.
        expect(
            agent.locator("form:has(input[name=action][value=status])")
        ).to_have_count(0)
        agent.screenshot(path=str(artifacts / "workspace-agent.png"), full_page=True)
        reporter.reload()
        expect(reporter.locator("body")).not_to_contain_text(agent_note)
        staff.close()
        agent_context.close()
