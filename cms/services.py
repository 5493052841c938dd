"""Writes for the kommuner's Wagtail sites: each kommun's site, home page and
editors' group."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupPagePermission, Page, Site

from municipalities.models import Municipality

from .models import MunicipalityHomePage, NationalHomePage

# What a kommun's editors may do with the pages under their site's root.
EDITOR_PAGE_PERMISSIONS = (
    "add_page",
    "change_page",
    "publish_page",
    "lock_page",
    "unlock_page",
)


def _editor_group(municipality: Municipality, site_root: Page) -> Group:
    group = municipality.editors_group
    if group is None:
        group, _ = Group.objects.get_or_create(
            name=f"{municipality.name} ({municipality.code}): redaktörer"
        )
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    for codename in EDITOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=site_root,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    return group


@transaction.atomic
def municipality_ensure_site(
    *, municipality: Municipality, domain: str, port: int
) -> Site:
    """Give the kommun its own Wagtail site, home page and editors' group.

    The site answers at ``<slug>.<domain>``; its editors may edit only the pages
    under that site's root.
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
    group = _editor_group(municipality, site.root_page)
    municipality.editors_group = group
    municipality.save(update_fields=["site", "editors_group"])
    return site


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
    if previous_root_id and previous_root_id != home.pk:
        # Wagtail's initial "Welcome" page is replaced by the national home.
        Page.objects.filter(pk=previous_root_id, depth=2).exclude(
            pk__in=Site.objects.values("root_page")
        ).delete()
    return site
