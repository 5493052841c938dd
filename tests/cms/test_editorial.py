"""The kommun sites' editorial workflow: moderation before publishing as each
kommun's choice (cms.services.municipality_moderation_set, the "Publishing"
screen of cms.editorial_views), scheduled publishing (cms.scheduled) and
previews that open phone-sized (cms.preview)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.models import Page, PageLogEntry, WorkflowState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.models import (
    AccessibilityStatementPage,
    ContentPage,
    MunicipalityHomePage,
    NationalHomePage,
)
from cms.scheduled import (
    revision_publish_due,
    scheduled_publish_step,
)
from cms.services import municipality_moderation_set
from municipalities.choices import StaffRole
from municipalities.models import AuditEntry, Municipality, StaffMembership
from municipalities.services import staff_membership_revoke
from tests.support.casework import LUND, MALMO
from tests.support.people import staff_user, superuser


def kommun(code: str) -> Municipality:
    return Municipality.objects.get(code=code)


def home_of(code: str) -> Page:
    return kommun(code).site.root_page


def draft(code: str, title: str) -> ContentPage:
    page = home_of(code).add_child(
        instance=ContentPage(
            title=title, slug=title.lower().replace(" ", "-"), live=False
        )
    )
    page.save_revision()
    return page


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_data(page: ContentPage, *, body: str = "<p>Nytt.</p>", **actions) -> dict:
    """The content page's edit form as an editor posts it."""
    return nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "body": streamfield([("text", rich_text(body))]),
            **actions,
        }
    )


def moderation_on(code: str):
    admin = staff_user(f"admin-{code}", code, StaffRole.ADMIN)
    municipality_moderation_set(actor=admin, municipality=kommun(code), moderation=True)
    return admin


@pytest.fixture
def malmo_people():
    return {
        "editor": staff_user("malmo-redaktor", MALMO, StaffRole.EDITOR),
        "approver": staff_user("malmo-granskare", MALMO, StaffRole.APPROVER),
        "lund_approver": staff_user("lund-granskare", LUND, StaffRole.APPROVER),
    }


# --- moderation before publishing ---------------------------------------------


@pytest.mark.django_db
def test_without_moderation_editors_publish_directly(malmo_people):
    page = draft(MALMO, "Om felanmälan")
    editor = signed_in(malmo_people["editor"])
    # No workflow of Wagtail's own on the whole tree offers them another way.
    form = editor.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert "Moderators approval" not in form.content.decode()
    assert 'name="action-submit"' not in form.content.decode()
    response = editor.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_data(page, **{"action-publish": "action-publish"}),
    )
    assert response.status_code == 302
    assert Page.objects.get(pk=page.pk).live


@pytest.mark.django_db
def test_with_moderation_an_editor_submits_and_a_malmo_approver_publishes(
    malmo_people,
):
    admin = moderation_on(MALMO)
    malmo = kommun(MALMO)
    assert malmo.moderation and malmo.workflow is not None
    page = draft(MALMO, "Vinterväghållning")
    assert page.get_workflow() == malmo.workflow
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    editor = signed_in(malmo_people["editor"])

    # The editor is offered no "Publish", and posting it saves a draft only.
    form = editor.get(edit).content.decode()
    assert 'name="action-publish"' not in form
    assert 'name="action-submit"' in form
    editor.post(edit, edit_data(page, **{"action-publish": "action-publish"}))
    assert not Page.objects.get(pk=page.pk).live

    # Submitted: in the kommun's workflow, still not live.
    response = editor.post(
        edit, edit_data(page, body="<p>Plogning.</p>", **{"action-submit": "1"})
    )
    assert response.status_code == 302
    state = WorkflowState.objects.get(
        object_id=str(page.pk), status=WorkflowState.STATUS_IN_PROGRESS
    )
    assert state.workflow == malmo.workflow
    assert not Page.objects.get(pk=page.pk).live
    task_state = state.current_task_state

    # Lund's approver cannot approve Malmö's page, nor open it.
    lund = signed_in(malmo_people["lund_approver"])
    action = reverse(
        "wagtailadmin_pages:workflow_action",
        args=[page.pk, "approve", task_state.pk],
    )
    assert lund.post(action).status_code in (302, 403)
    assert lund.get(edit).status_code in (302, 403)
    assert not Page.objects.get(pk=page.pk).live
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS

    # Malmö's approver sees it awaiting review, approves, and it goes live.
    approver = signed_in(malmo_people["approver"])
    dashboard = approver.get(reverse("wagtailadmin_home")).content.decode()
    assert "Vinterväghållning" in dashboard
    assert (
        "Vinterväghållning"
        not in lund.get(reverse("wagtailadmin_home")).content.decode()
    )
    response = approver.post(action)
    assert response.status_code == 302
    page = ContentPage.objects.get(pk=page.pk)
    assert page.live and "Plogning." in page.body[0].value.source
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED

    # The kommun's administrators approve as well: they are in the group.
    assert malmo.approvers_group.user_set.filter(pk=admin.pk).exists()


@pytest.mark.django_db
def test_lunds_site_is_not_moderated_when_malmos_is(malmo_people):
    moderation_on(MALMO)
    lund_editor = staff_user("lund-redaktor", LUND, StaffRole.EDITOR)
    page = draft(LUND, "Lunds nyhet")
    assert page.get_workflow() is None
    signed_in(lund_editor).post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_data(page, **{"action-publish": "action-publish"}),
    )
    assert Page.objects.get(pk=page.pk).live


@pytest.mark.django_db
def test_switching_moderation_off_restores_direct_publishing(malmo_people):
    admin = moderation_on(MALMO)
    client = signed_in(admin)
    edit = reverse("publishing:edit", args=[kommun(MALMO).pk])
    response = client.post(edit, {})  # the box unticked
    assert response.status_code == 302
    malmo = kommun(MALMO)
    assert not malmo.moderation
    page = draft(MALMO, "Sommarjobb")
    assert page.get_workflow() is None
    signed_in(malmo_people["editor"]).post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_data(page, **{"action-publish": "action-publish"}),
    )
    assert Page.objects.get(pk=page.pk).live

    entries = AuditEntry.objects.filter(
        action="kommun.moderation", municipality=malmo
    ).order_by("at", "pk")
    assert [(e.before, e.after, e.actor_id) for e in entries] == [
        ({"moderation": False}, {"moderation": True}, admin.pk),
        ({"moderation": True}, {"moderation": False}, admin.pk),
    ]


@pytest.mark.django_db
def test_a_kommun_administrator_switches_moderation_on_the_publishing_screen():
    admin = staff_user("malmo-admin", MALMO, StaffRole.ADMIN)
    client = signed_in(admin)
    listing = client.get(reverse("publishing:index")).content.decode()
    assert "Malmö" in listing and "Lund" not in listing
    # The screen is named for what it does, not for the kommuner it lists.
    assert re.search(
        r"<h1[^>]*>\s*(<svg.*?</svg>)?\s*Publishing\s*</h1>", listing, re.S
    )
    edit = reverse("publishing:edit", args=[kommun(MALMO).pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"moderation": "on"})
    assert response.status_code == 302
    assert kommun(MALMO).moderation
    # Lund's is another kommun's: not found, and unchanged.
    assert client.post(
        reverse("publishing:edit", args=[kommun(LUND).pk]), {"moderation": "on"}
    ).status_code in (302, 403, 404)
    assert not kommun(LUND).moderation


@pytest.mark.django_db
@pytest.mark.parametrize("role", [StaffRole.EDITOR, StaffRole.APPROVER])
def test_editors_and_approvers_cannot_switch_moderation(role):
    admin = moderation_on(MALMO)
    person = staff_user(f"malmo-{role}-brytare", MALMO, role)
    client = signed_in(person)
    edit = reverse("publishing:edit", args=[kommun(MALMO).pk])
    assert client.get(edit).status_code in (302, 403, 404)
    assert client.post(edit, {}).status_code in (302, 403, 404)
    assert client.get(reverse("publishing:index")).status_code in (302, 403)
    assert kommun(MALMO).moderation
    with pytest.raises(PermissionDenied):
        municipality_moderation_set(
            actor=person, municipality=kommun(MALMO), moderation=False
        )
    assert kommun(MALMO).moderation
    assert AuditEntry.objects.filter(action="kommun.moderation").count() == 1
    # And their kommun's administrator still can.
    municipality_moderation_set(
        actor=admin, municipality=kommun(MALMO), moderation=False
    )
    assert not kommun(MALMO).moderation


@pytest.mark.django_db
def test_moderation_with_no_one_to_approve_is_refused_at_the_field():
    national = superuser()
    # Malmö has no administrator nor approver: no one could approve.
    assert not StaffMembership.objects.filter(
        municipality=kommun(MALMO), role__in=[StaffRole.ADMIN, StaffRole.APPROVER]
    ).exists()
    with translation.override("en"):
        response = signed_in(national).post(
            reverse("publishing:edit", args=[kommun(MALMO).pk]), {"moderation": "on"}
        )
        assert response.status_code == 200
        assert "No one could approve the pages" in response.content.decode()
    malmo = kommun(MALMO)
    assert not malmo.moderation and malmo.workflow is None
    assert not AuditEntry.objects.filter(action="kommun.moderation").exists()
    with pytest.raises(ValidationError) as refused:
        municipality_moderation_set(actor=national, municipality=malmo, moderation="ja")
    assert "moderation" in refused.value.message_dict


@pytest.mark.django_db
def test_an_approver_who_leaves_the_role_no_longer_approves(malmo_people):
    moderation_on(MALMO)
    approver = malmo_people["approver"]
    group = kommun(MALMO).approvers_group
    assert group.user_set.filter(pk=approver.pk).exists()
    membership = StaffMembership.objects.get(user=approver, role=StaffRole.APPROVER)
    staff_membership_revoke(actor=superuser(), membership=membership)
    assert not group.user_set.filter(pk=approver.pk).exists()


@pytest.mark.django_db
def test_a_site_made_before_approvers_gets_its_group_when_moderation_is_switched_on():
    admin = staff_user("malmo-admin-tidig", MALMO, StaffRole.ADMIN)
    Municipality.objects.filter(code=MALMO).update(approvers_group=None)
    malmo = municipality_moderation_set(
        actor=admin, municipality=kommun(MALMO), moderation=True
    )
    assert malmo.approvers_group.user_set.filter(pk=admin.pk).exists()
    assert draft(MALMO, "Sen sida").get_workflow() == malmo.workflow


@pytest.mark.django_db
def test_an_approver_in_a_kommun_without_a_site_is_refused_at_the_field():
    stockholm = Municipality.objects.get(code="0180")
    assert stockholm.site_id is None
    admin = staff_user("stockholm-admin", "0180", StaffRole.ADMIN)
    with translation.override("en"):
        response = signed_in(admin).post(
            "/admin/staff/new/",
            {
                "email": "granskare@stockholm.example",
                "municipality": stockholm.pk,
                "role": StaffRole.APPROVER,
            },
        )
        assert response.status_code == 200
        assert "not ready for this role yet" in response.content.decode()
    assert not StaffMembership.objects.filter(role=StaffRole.APPROVER).exists()
    with pytest.raises(ValidationError):
        municipality_moderation_set(
            actor=admin, municipality=stockholm, moderation=True
        )
    assert not Municipality.objects.get(code="0180").moderation


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [StaffRole.ADMIN, StaffRole.EDITOR, StaffRole.APPROVER]
)
def test_the_workflow_screens_stay_the_national_administrators(role):
    moderation_on(MALMO)
    client = signed_in(staff_user(f"malmo-{role}-flode", MALMO, role))
    workflow = kommun(MALMO).workflow
    for url in (
        reverse("wagtailadmin_workflows:index"),
        reverse("wagtailadmin_workflows:edit", args=[workflow.pk]),
        reverse("wagtailadmin_workflows:task_index"),
    ):
        assert client.get(url).status_code in (302, 403), url


# --- scheduled publishing ---------------------------------------------------------


def scheduled(page: ContentPage, *, minutes: int) -> ContentPage:
    """What the editor's "Publish" does with a go-live moment ahead: the
    revision waits for it."""
    page.go_live_at = timezone.now() + dt.timedelta(minutes=minutes)
    page.save_revision().publish()
    page.refresh_from_db()
    assert not page.live
    return page


def time_passes(page: ContentPage, *, minutes: int) -> None:
    """Move the page's scheduled moments back, as if ``minutes`` had passed."""
    back = dt.timedelta(minutes=minutes)
    page.refresh_from_db()
    for field in ("go_live_at", "expire_at"):
        if getattr(page, field):
            Page.objects.filter(pk=page.pk).update(
                **{field: getattr(page, field) - back}
            )
    for revision in page.revisions.all():
        for field in ("go_live_at", "expire_at"):
            if revision.content.get(field):
                moment = dt.datetime.fromisoformat(revision.content[field]) - back
                revision.content[field] = moment.isoformat()
        if revision.approved_go_live_at:
            revision.approved_go_live_at -= back
        revision.save(update_fields=["content", "approved_go_live_at"])


@pytest.mark.django_db
def test_a_scheduled_page_goes_live_and_an_expired_one_goes_offline():
    coming = scheduled(draft(MALMO, "Kommande"), minutes=60)
    expiring = draft(MALMO, "Utgående")
    expiring.expire_at = timezone.now() + dt.timedelta(minutes=30)
    expiring.save_revision().publish()
    assert Page.objects.get(pk=expiring.pk).live

    # Not yet due: nothing happens.
    done = scheduled_publish_step()
    assert done.published == [] and done.unpublished == []
    assert not Page.objects.get(pk=coming.pk).live

    time_passes(coming, minutes=90)
    time_passes(expiring, minutes=90)
    done = scheduled_publish_step()
    assert Page.objects.get(pk=coming.pk).live
    assert done.published == [coming.latest_revision_id]
    expired = Page.objects.get(pk=expiring.pk)
    assert not expired.live and expired.expired
    assert done.unpublished == [("wagtailcore.Page", expiring.pk)]
    assert PageLogEntry.objects.filter(
        page=coming, action="wagtail.publish.scheduled"
    ).exists()
    assert PageLogEntry.objects.filter(
        page=expiring, action="wagtail.unpublish.scheduled"
    ).exists()

    # Run again: nothing left to do.
    again = scheduled_publish_step()
    assert again.published == [] and again.unpublished == []


@pytest.mark.django_db
def test_two_runs_that_both_saw_a_page_due_publish_it_once():
    page = scheduled(draft(MALMO, "En gång"), minutes=5)
    time_passes(page, minutes=10)
    revision_id = page.latest_revision_id
    now = timezone.now()
    # Two processes read the same due revision; each then claims it.
    assert revision_publish_due(revision_id=revision_id, now=now)
    assert not revision_publish_due(revision_id=revision_id, now=now)
    assert Page.objects.get(pk=page.pk).live
    assert (
        PageLogEntry.objects.filter(
            page=page, action="wagtail.publish.scheduled"
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_an_expiry_before_going_live_is_refused_and_nothing_is_published(
    malmo_people,
):
    page = draft(MALMO, "Felplanerad")
    response = signed_in(malmo_people["editor"]).post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_data(
            page,
            go_live_at="2030-05-02 10:00",
            expire_at="2030-05-01 10:00",
            **{"action-publish": "action-publish"},
        ),
    )
    assert response.status_code == 200
    assert "expire_at" in response.context["form"].errors
    page = Page.objects.get(pk=page.pk)
    assert not page.live and page.go_live_at is None
    assert scheduled_publish_step().published == []


# --- previews ------------------------------------------------------------------------


def form_as_posted(html: str) -> dict:
    """The values of the page's edit form, as the browser would post them."""
    form = BeautifulSoup(html, "html.parser").find("form", id="page-edit-form")
    data: dict[str, list[str]] = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("disabled") is not None:
            continue
        if field.name == "textarea":
            value = field.text
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            value = chosen.get("value", "") if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.get("checked") is None:
                continue
            value = field.get("value", "on")
        elif field.get("type") in ("submit", "button", "file"):
            continue
        else:
            value = field.get("value", "")
        data.setdefault(name, []).append(value)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "template"),
    [
        (NationalHomePage, "cms/national_home_page.html"),
        (MunicipalityHomePage, "cms/municipality_home_page.html"),
        (ContentPage, "cms/content_page.html"),
        (AccessibilityStatementPage, "cms/accessibility_statement_page.html"),
    ],
)
def test_every_page_type_previews_phone_sized_first(model, template):
    page = model.objects.first() or draft(MALMO, "Förhandsvisning")
    client = signed_in(superuser())
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert edit.status_code == 200
    html = edit.content.decode()
    # The preview panel offers the sizes, the phone's checked.
    panel = BeautifulSoup(html, "html.parser")
    sizes = {
        size["value"]: size
        for size in panel.find_all("input", attrs={"name": "preview-size"})
    }
    assert list(sizes) == ["mobile", "reflow", "tablet", "desktop"]
    assert sizes["mobile"].get("checked") is not None
    assert sizes["mobile"]["data-device-width"] == "375"
    assert sizes["reflow"]["data-device-width"] == "320"

    preview = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    data = form_as_posted(html)
    # The blocks' editor is drawn by its script: an empty stream as it posts one.
    if hasattr(model, "body"):
        data.setdefault("body-count", ["0"])
    posted = client.post(preview, data)
    assert json.loads(posted.content)["is_valid"] is True, posted.content
    shown = client.get(preview)
    assert shown.status_code == 200
    assert template in [t.name for t in shown.templates]
    assert page.title in shown.content.decode()
