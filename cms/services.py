"""Writes for the kommuner's Wagtail sites: each kommun's site, home page,
editors' and approvers' groups, and moderation before publishing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    GroupSitePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from municipalities.audit import audit_record
from municipalities.models import Municipality
from municipalities.staff import (
    MODERATION_SETTING_ROLES,
    staff_approvers,
    staff_municipalities,
)

from .models import (
    AccessibilityStatementPage,
    Compliance,
    MunicipalityHomePage,
    NationalHomePage,
)

# The statement every new site starts from (the kommun's editors complete it):
# what is known of the platform itself, in Swedish, the sites' language.
STATEMENT_NON_COMPLIANT = (
    "<p>Kartan, där man sätter ut platsen för ett fel, är svår att använda med "
    "skärmläsare: kartbilderna har ingen textbeskrivning. Platsen kan i stället "
    "väljas genom att söka på en adress eller ort, eller med tangentbordet: "
    "flytta kartan med piltangenterna och tryck Enter för att sätta nålen i "
    "mitten (WCAG 1.1.1, 2.1.1).</p>"
)
STATEMENT_OUTSIDE_SCOPE = (
    "<p>Kartbilderna kommer från OpenStreetMap och omfattas inte av "
    "organisationens kontroll.</p>"
)
STATEMENT_ASSESSMENT = (
    "<p>Webbplatsen har granskats genom egen bedömning: varje sida för den som "
    "felanmäler kontrolleras automatiskt med verktyget axe-core mot WCAG 2.1 "
    "nivå AA vid varje ändring av plattformen, på svenska och engelska, med och "
    "utan JavaScript, och tangentbordsnavigeringen prövas i webbläsaren.</p>"
)

# What a kommun's editors may do with the pages under their site's root
# (without publishing while the kommun has moderation before publishing), and
# its approvers always.
EDITOR_PAGE_PERMISSIONS = (
    "add_page",
    "change_page",
    "publish_page",
    "lock_page",
    "unlock_page",
)
APPROVER_PAGE_PERMISSIONS = EDITOR_PAGE_PERMISSIONS
PUBLISH = "publish_page"


# What a kommun's editors may do with the images and documents of their
# kommun's collection; the shared national collection's they may only choose.
EDITOR_COLLECTION_PERMISSIONS = {
    "wagtailimages": ("add_image", "change_image", "choose_image", "delete_image"),
    "wagtaildocs": (
        "add_document",
        "change_document",
        "choose_document",
        "delete_document",
    ),
}
SHARED_COLLECTION_PERMISSIONS = {
    "wagtailimages": ("choose_image",),
    "wagtaildocs": ("choose_document",),
}
SHARED_COLLECTION_NAME = "Nationellt (delat)"


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def shared_collection_ensure() -> Collection:
    """The national collection every kommun's editors may choose from."""
    root = Collection.get_first_root_node()
    shared = root.get_children().filter(name=SHARED_COLLECTION_NAME).first()
    return shared or root.add_child(instance=Collection(name=SHARED_COLLECTION_NAME))


def _collection_ensure(municipality: Municipality) -> Collection:
    if municipality.collection_id:
        return municipality.collection
    root = Collection.get_first_root_node()
    return root.add_child(
        instance=Collection(name=f"{municipality.name} ({municipality.code})")
    )


def _grant_collection(group: Group, collection: Collection, permissions) -> None:
    for app_label, codenames in permissions.items():
        for codename in codenames:
            GroupCollectionPermission.objects.get_or_create(
                group=group,
                collection=collection,
                permission=_permission(app_label, codename),
            )


def _grant_pages(group: Group, site_root: Page, codenames) -> None:
    for codename in codenames:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=site_root,
            permission=_permission("wagtailcore", codename),
        )


def _editor_group(municipality: Municipality, site_root: Page) -> Group:
    group = municipality.editors_group
    if group is None:
        group, _created = Group.objects.get_or_create(
            name=f"{municipality.name} ({municipality.code}): redaktörer"
        )
    group.permissions.add(_permission("wagtailadmin", "access_admin"))
    _grant_pages(
        group,
        site_root,
        [
            c
            for c in EDITOR_PAGE_PERMISSIONS
            if c != PUBLISH or not municipality.moderation
        ],
    )
    return group


def _approvers_group(municipality: Municipality, site_root: Page) -> Group:
    """The kommun's approvers: they approve what its editors submit while the
    kommun has moderation before publishing, and may always publish. Its
    members are the kommun's approvers and administrators
    (``municipalities.staff.staff_approvers``)."""
    group = municipality.approvers_group
    if group is None:
        group, _created = Group.objects.get_or_create(
            name=f"{municipality.name} ({municipality.code}): granskare"
        )
    group.permissions.add(_permission("wagtailadmin", "access_admin"))
    _grant_pages(group, site_root, APPROVER_PAGE_PERMISSIONS)
    group.user_set.add(*staff_approvers(municipality_id=municipality.pk))
    return group


@transaction.atomic
def municipality_ensure_site(
    *, municipality: Municipality, domain: str, port: int
) -> Site:
    """Give the kommun its own Wagtail site, home page, editors' and approvers'
    groups and collection.

    The site answers at ``<slug>.<domain>``; its editors and approvers may
    edit only the pages under that site's root.
    """
    site = municipality.site
    if site is None:
        root = Page.get_first_root_node()
        home = root.add_child(
            instance=MunicipalityHomePage(
                title=municipality.name, slug=f"kommun-{municipality.slug}"
            )
        )
        site = Site.objects.create(
            hostname=f"{municipality.slug}.{domain}",
            port=port,
            root_page=home,
            site_name=municipality.name,
        )
        municipality.site = site
        municipality.save(update_fields=["site"])
    accessibility_statement_ensure(home=site.root_page, organisation=municipality.name)
    _site_groups_ensure(municipality)
    return site


def _site_groups_ensure(municipality: Municipality) -> None:
    """The groups of the kommun's site (which has one) with their permissions,
    its collection, and the site following its moderation setting."""
    site = municipality.site
    group = _editor_group(municipality, site.root_page)
    # The site's branding: its editors may change their own site's only.
    GroupSitePermission.objects.get_or_create(
        group=group,
        site=site,
        permission=_permission("cms", "change_sitebranding"),
    )
    approvers = _approvers_group(municipality, site.root_page)
    collection = _collection_ensure(municipality)
    for each in (group, approvers):
        _grant_collection(each, collection, EDITOR_COLLECTION_PERMISSIONS)
        _grant_collection(
            each, shared_collection_ensure(), SHARED_COLLECTION_PERMISSIONS
        )
    municipality.editors_group = group
    municipality.approvers_group = approvers
    municipality.collection = collection
    municipality.save(update_fields=["editors_group", "approvers_group", "collection"])
    _moderation_apply(municipality)


# --- moderation before publishing ----------------------------------------------


def _workflow_ensure(municipality: Municipality) -> Workflow:
    """The kommun's own workflow: one task, approved by its approvers' group."""
    workflow = municipality.workflow
    if workflow is None:
        label = f"{municipality.name} ({municipality.code})"
        workflow = Workflow.objects.create(name=f"{label}: granskning före publicering")
        task = GroupApprovalTask.objects.create(name=f"{label}: granskare godkänner")
        task.groups.set([municipality.approvers_group])
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        municipality.workflow = workflow
        municipality.save(update_fields=["workflow"])
    elif not workflow.active:
        workflow.active = True
        workflow.save(update_fields=["active"])
    return workflow


def _moderation_apply(municipality: Municipality) -> None:
    """Make the kommun's site follow ``municipality.moderation``: its workflow
    assigned to the site's root and its editors without the right to publish,
    or the workflow unassigned and the editors publishing again."""
    site, editors = municipality.site, municipality.editors_group
    if site is None or editors is None:
        return
    publish = GroupPagePermission.objects.filter(
        group=editors,
        page=site.root_page_id,
        permission=_permission("wagtailcore", PUBLISH),
    )
    if municipality.moderation:
        publish.delete()
        WorkflowPage.objects.update_or_create(
            page=site.root_page, defaults={"workflow": _workflow_ensure(municipality)}
        )
    else:
        _grant_pages(editors, site.root_page, [PUBLISH])
        if municipality.workflow_id is not None:
            WorkflowPage.objects.filter(
                page=site.root_page_id, workflow=municipality.workflow_id
            ).delete()


@transaction.atomic
def municipality_moderation_set(
    *, actor, municipality: Municipality, moderation: bool
) -> Municipality:
    """Switch moderation before publishing on or off for the kommun's site
    (its administrators, and superusers). On: the kommun's editors submit
    pages to its own workflow, approved by its approvers' group; off: they
    publish directly again. Audited."""
    if not (
        staff_municipalities(actor, MODERATION_SETTING_ROLES)
        .filter(pk=municipality.pk)
        .exists()
    ):
        raise PermissionDenied(
            _("Only the kommun's administrators switch moderation before publishing.")
        )
    if not isinstance(moderation, bool):
        raise ValidationError({"moderation": _("Choose on or off.")})
    municipality = Municipality.objects.select_for_update().get(pk=municipality.pk)
    if municipality.site_id is None:
        raise ValidationError({"moderation": _("The kommun has no site yet.")})
    if municipality.approvers_group_id is None:
        # A site made before kommuner had approvers gets its group now.
        _site_groups_ensure(municipality)
    if moderation and not staff_approvers(municipality_id=municipality.pk).exists():
        raise ValidationError(
            {
                "moderation": _(
                    "No one could approve the pages: give someone the approver "
                    "role in the kommun first."
                )
            }
        )
    before = municipality.moderation
    municipality.moderation = moderation
    municipality.save(update_fields=["moderation"])
    _moderation_apply(municipality)
    if before != moderation:
        audit_record(
            actor=actor,
            action="kommun.moderation",
            target=municipality,
            municipality=municipality,
            before={"moderation": before},
            after={"moderation": moderation},
        )
    return municipality


@transaction.atomic
def national_site_ensure(*, domain: str, port: int) -> Site:
    """The national site: the default site, at ``domain``, rooted at the national
    home page (made once; Wagtail's initial welcome page gives way to it)."""
    home = NationalHomePage.objects.first()
    root = Page.get_first_root_node()
    if home is None:
        home = root.add_child(
            instance=NationalHomePage(
                title="Knutpunkt",
                slug="knutpunkt",
                intro="<p>Felanmälan för gator och offentliga platser i hela Sverige.</p>",
            )
        )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        site = Site(is_default_site=True)
    previous_root_id = site.root_page_id
    site.hostname, site.port, site.root_page = domain, port, home
    site.site_name = "Knutpunkt"
    site.save()
    accessibility_statement_ensure(home=home, organisation="Knutpunkt")
    if previous_root_id and previous_root_id != home.pk:
        # Wagtail's initial "Welcome" page is replaced by the national home.
        Page.objects.filter(pk=previous_root_id, depth=2).exclude(
            pk__in=Site.objects.values("root_page")
        ).delete()
    return site


def accessibility_statement_ensure(
    *, home: Page, organisation: str
) -> AccessibilityStatementPage:
    """The site's accessibility statement at ``/tillganglighet/``, published
    with what is known of the platform (made once; its editors keep it true)."""
    existing = AccessibilityStatementPage.objects.child_of(home).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    return home.add_child(
        instance=AccessibilityStatementPage(
            title="Tillgänglighetsredogörelse",
            slug="tillganglighet",
            organisation=organisation,
            compliance=Compliance.PARTIAL,
            contact_email=settings.KNUTPUNKT_ACCESSIBILITY_EMAIL,
            non_compliant=STATEMENT_NON_COMPLIANT,
            outside_scope=STATEMENT_OUTSIDE_SCOPE,
            assessment=STATEMENT_ASSESSMENT,
            assessed_on=today,
            site_published_on=today,
        )
    )
