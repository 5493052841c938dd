"""Wagtail's shared parts, scoped to the user's kommun (municipalities.staff).

Where Wagtail asks a hook, the hook applies the rule here: the page chooser,
the dashboard's panels and the admin API's images and documents. The page
explorer and page search follow Wagtail's page permissions, which give an
editor their kommun's site only; the reports Wagtail gives no hook for are
cms.admin_reports, the image and document screens' tags cms.admin_media.
The kommun's "Publishing" screen is cms.editorial_views.
"""

from wagtail import hooks
from wagtail.admin.views import home
from wagtail.models import Page

from municipalities.staff import staff_pages_q

from .admin_media import ScopedDocumentsAdminAPIViewSet, ScopedImagesAdminAPIViewSet
from .editorial_views import PublishingViewSet


@hooks.register("construct_page_chooser_queryset")
def page_chooser_in_own_sites(pages, request):
    # Every staff account may open the page chooser; it offers the pages of
    # the sites of the user's kommuner only (none to those without a page role).
    return pages.filter(staff_pages_q(request.user))


# After Wagtail's own registrations (order 0), which list every image and document.
@hooks.register("construct_admin_api", order=1)
def admin_api_media_in_own_collections(router):
    router.register_endpoint("images", ScopedImagesAdminAPIViewSet)
    router.register_endpoint("documents", ScopedDocumentsAdminAPIViewSet)


# --- the dashboard -----------------------------------------------------------------
# Wagtail's panels list the pages the user locked, edited, asked a review of or
# may review, wherever they are: someone who moved from one kommun to another
# would still see the first one's pages there. Each lists its kommun's only.


def _own_page_ids(user, pages) -> set[int]:
    ids = {page.pk for page in pages if isinstance(page, Page)}
    if not ids:
        return set()
    return set(
        Page.objects.filter(staff_pages_q(user), pk__in=ids).values_list(
            "pk", flat=True
        )
    )


class OwnKommunsLockedPagesPanel(home.LockedPagesPanel):
    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        user = parent_context["request"].user
        context["locked_pages"] = context["locked_pages"].filter(staff_pages_q(user))
        return context


class OwnKommunsRecentEditsPanel(home.RecentEditsPanel):
    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        edits = context["last_edits"]
        own = _own_page_ids(parent_context["request"].user, [p for _, p in edits])
        context["last_edits"] = [(when, page) for when, page in edits if page.pk in own]
        return context


class OwnKommunsObjectsInModerationPanel(home.UserObjectsInWorkflowModerationPanel):
    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        states = context["workflow_states"]
        own = _own_page_ids(
            parent_context["request"].user, [s.content_object for s in states]
        )
        context["workflow_states"] = [s for s in states if s.content_object.pk in own]
        return context


class OwnKommunsObjectsToModeratePanel(home.WorkflowObjectsToModeratePanel):
    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        states = context["states"]
        own = _own_page_ids(parent_context["request"].user, [s["obj"] for s in states])
        context["states"] = [s for s in states if s["obj"].pk in own]
        return context


OWN_KOMMUNS_PANELS = {
    home.LockedPagesPanel: OwnKommunsLockedPagesPanel,
    home.RecentEditsPanel: OwnKommunsRecentEditsPanel,
    home.UserObjectsInWorkflowModerationPanel: OwnKommunsObjectsInModerationPanel,
    home.WorkflowObjectsToModeratePanel: OwnKommunsObjectsToModeratePanel,
}


@hooks.register("construct_homepage_panels")
def dashboard_of_own_kommun(request, panels):
    if request.user.is_superuser:
        return
    panels[:] = [
        OWN_KOMMUNS_PANELS[type(panel)]()
        if type(panel) in OWN_KOMMUNS_PANELS
        else panel
        for panel in panels
    ]


@hooks.register("register_admin_viewset")
def register_publishing():
    # Moderation before publishing, switched by each kommun's administrators.
    return PublishingViewSet()
