"""On a phone, someone watches the area of Malmö's map ("Bevaka området"),
confirms the alert by the e-mailed link; a report is made in that area, the
alerts' step claims its digest, and the e-mail names the report with a link
to its page."""

import re

import pytest

from devkit.instance import shell, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Trasig parkbänk vid torget"


def test_an_area_alert_tells_of_a_new_report_there(phone, artifacts, mailed_site):
    base = mailed_site.url()
    smtp = mailed_site.smtp
    env = mailed_site.env
    page = phone.new_page()
    page.goto(f"{base}/rapporter/")
    page.locator("#watch-area").tap()
    page.wait_for_url(re.compile(r"/bevaka/\?lat=[0-9.]+&lon=[0-9.]+$"))
    # The form starts at the map's centre, in a radius of a kilometre.
    lat = float(page.locator("input[name=lat]").input_value())
    lon = float(page.locator("input[name=lon]").input_value())
    assert 55.3 < lat < 55.8 and 12.8 < lon < 13.4
    assert page.locator("input[name=kind][value=area]").is_checked()
    page.locator("input[name=radius]").fill("1000")
    page.locator("input[name=email]").fill("grannen@example.org")
    page.screenshot(path=str(artifacts / "alert-1-form.png"), full_page=True)
    page.locator("#alert-form button[type=submit]").tap()
    # The answer to the POST: "check your e-mail", with no form.
    page.wait_for_url(re.compile(r"/bevaka/$"))
    assert page.locator("input[name=email]").count() == 0

    # In the scaled profile the worker may still be working the demo's
    # own tasks (the page index) when the confirmation is queued behind them.
    assert wait_for(lambda: smtp.bodies_to("grannen@example.org"), timeout=180), (
        "no e-mail"
    )
    (body,) = smtp.bodies_to("grannen@example.org")
    link = re.search(r"http://\S+/bevaka/bekrafta/\S+/", body).group(0)
    assert link.startswith(base)
    page.goto(link)
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/bevakning/[^/]+/$"))
    page.screenshot(path=str(artifacts / "alert-2-on.png"), full_page=True)

    # A report some 200 m from the centre, made through the service.
    (report_id,) = shell(
        env,
        "from django.contrib.auth import get_user_model; "
        "from municipalities.models import Category; "
        "from reports.services import Reporter, report_submit; "
        "u, _ = get_user_model().objects.get_or_create("
        "username='bank-reporter', defaults={'email': 'bank@example.org'}); "
        f"r = report_submit(lat={lat + 0.0015}, lon={lon + 0.001}, "
        "category=Category.objects.get(slug='park'), "
        f"title='{TITLE}', description='Ryggstödet är avbrutet.', "
        "reporter=Reporter(name='Bo Bänk', email='bank@example.org', user=u), "
        "address_lookup=False); print(r.pk)",
    )
    # The alerts' step, as the scheduler takes it a minute on.
    shell(
        env,
        "from datetime import timedelta; from django.utils import timezone; "
        "from reports.alert_services import alerts_digest_step; "
        "print(alerts_digest_step(timezone.now() + timedelta(minutes=1)))",
    )

    def digest():
        return [b for b in smtp.bodies_to("grannen@example.org") if TITLE in b]

    assert wait_for(digest, timeout=60), "no digest arrived"
    (mail,) = digest()
    report_link = re.search(r"http://\S+/rapporter/(\d+)/", mail)
    assert report_link.group(1) == report_id
    assert report_link.group(0).startswith(base)
    # Nothing about who reported.
    assert "Bo Bänk" not in mail and "bank@example.org" not in mail
    page.goto(report_link.group(0))
    assert page.locator("h1").inner_text() == TITLE
    page.screenshot(path=str(artifacts / "alert-3-report.png"), full_page=True)
