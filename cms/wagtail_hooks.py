"""Wagtail's shared parts, scoped to the user's kommun (municipalities.staff),
and the kommun's "Publishing" screen (cms.editorial_views)."""

from wagtail import hooks

from municipalities.staff import staff_pages_q

from .editorial_views import PublishingViewSet


@hooks.register("construct_page_chooser_queryset")
def page_chooser_in_own_sites(pages, request):
    # Every staff account may open the page chooser; it offers the pages of
    # the sites of the user's kommuner only (none to those without a page role).
    return pages.filter(staff_pages_q(request.user))


@hooks.register("register_admin_viewset")
def register_publishing():
    # Moderation before publishing, switched by each kommun's administrators.
    return PublishingViewSet()
