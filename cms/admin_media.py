"""Wagtail's image and document screens, scoped to the user's kommun.

Which images and documents a member of staff sees is Wagtail's collection
permissions: their kommun's collection, and the shared national one to choose
from (granted in cms.services.municipality_ensure_site). Wagtail keeps to them
in its listings and choosers, but not everywhere: its admin API lists every
image and document, the listings' and the image chooser's tag filters offer
the ten most used tags of every image (or document), and its tag suggestions
are every tag there is. Here the API lists what the user may choose or manage
(cms.wagtail_hooks puts these endpoints in place of Wagtail's), and the tags
offered are those of the images and documents the screen itself shows. The
screens answer at Wagtail's own URLs (config.urls puts them first).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from taggit.models import Tag, TaggedItem
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views import tags as wagtail_tags
from wagtail.documents import get_document_model
from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
from wagtail.documents.views import documents
from wagtail.images import get_image_model
from wagtail.images.api.admin.views import ImagesAdminAPIViewSet
from wagtail.images.views import chooser as image_chooser
from wagtail.images.views import images
from wagtail.permissions import policy_registry

# Whatever a user may do with an image or document, they may see it.
ANY_ACTION = ("add", "change", "delete", "choose")
# What Wagtail's listings show (the chooser shows what may be chosen).
LISTED = ("change", "delete")
POPULAR_TAGS = 10  # as Wagtail's popular_tags_for_model


def visible(user, model, actions=ANY_ACTION) -> QuerySet:
    """The images (or documents: ``model``) the user may do one of ``actions``
    with, by Wagtail's collection permissions."""
    return policy_registry.get_by_type(model).instances_user_has_any_permission_for(
        user, list(actions)
    )


def _tagged(objects: QuerySet) -> QuerySet:
    return TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(objects.model),
        object_id__in=objects.values("pk"),
    )


def popular_tags(objects: QuerySet) -> QuerySet:
    """The most used tags among ``objects``, as Wagtail offers them."""
    return (
        Tag.objects.filter(taggit_taggeditem_items__in=_tagged(objects))
        .annotate(item_count=Count("taggit_taggeditem_items"))
        .order_by("-item_count", "name")[:POPULAR_TAGS]
    )


# --- the listings' tag filter --------------------------------------------------


class OwnTagsMixin:
    """A media filter set whose tag filter offers the tags of the listed
    images or documents only."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if "tag" not in self.filters or request.user.is_superuser:
            return
        tags = popular_tags(visible(request.user, self._meta.model, LISTED))
        if tags:
            self.filters["tag"].extra["choices"] = [
                (tag.name, tag.name) for tag in tags
            ]
        else:
            del self.filters["tag"]


class ScopedImagesFilterSet(OwnTagsMixin, images.ImagesFilterSet):
    class Meta(images.ImagesFilterSet.Meta):
        pass


class ScopedDocumentsFilterSet(OwnTagsMixin, documents.DocumentsFilterSet):
    class Meta(documents.DocumentsFilterSet.Meta):
        pass


class ScopedImagesIndexView(images.IndexView):
    filterset_class = ScopedImagesFilterSet


class ScopedDocumentsIndexView(documents.IndexView):
    filterset_class = ScopedDocumentsFilterSet


# --- the image chooser's tags ---------------------------------------------------


class ScopedImageChooseView(image_chooser.ImageChooseView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.request.user.is_superuser:
            context["popular_tags"] = popular_tags(
                visible(self.request.user, self.model, ("choose",))
            )
        return context


class ScopedImageChooserViewSet(image_chooser.ImageChooserViewSet):
    """Wagtail's image chooser (its views named as Wagtail's); only its first
    view, which offers the tags, is answered from here."""

    choose_view_class = ScopedImageChooseView


image_chooser_viewset = ScopedImageChooserViewSet(
    image_chooser.viewset.name,
    model=get_image_model(),
    url_prefix=image_chooser.viewset.url_prefix,
)


# --- tag suggestions ---------------------------------------------------------------


def tag_autocomplete(request, app_name=None, model_name=None):
    """The tags starting with what the user typed: among those of the images
    and documents they may see (every tag for superusers, as Wagtail's)."""
    if request.user.is_superuser:
        return wagtail_tags.autocomplete(request, app_name, model_name)
    term = request.GET.get("term", "")
    if not term or (app_name, model_name) not in ((None, None), ("taggit", "tag")):
        # The project tags nothing but images and documents, with taggit's tags.
        return JsonResponse([], safe=False)
    seen = _tagged(visible(request.user, get_image_model())) | _tagged(
        visible(request.user, get_document_model())
    )
    names = (
        Tag.objects.filter(name__istartswith=term, taggit_taggeditem_items__in=seen)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)[: wagtail_tags.TAGS_AUTOCOMPLETE_LIMIT]
    )
    return JsonResponse(list(names), safe=False)


# --- the admin API ------------------------------------------------------------------


class ScopedImagesAdminAPIViewSet(ImagesAdminAPIViewSet):
    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(pk__in=visible(self.request.user, self.model).values("pk"))
        )


class ScopedDocumentsAdminAPIViewSet(DocumentsAdminAPIViewSet):
    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(pk__in=visible(self.request.user, self.model).values("pk"))
        )


def _view(view):
    # As Wagtail's own admin URLs are: signed in with admin access, never cached.
    return never_cache(require_admin_access(view))


# Wagtail's URLs (wagtail.admin.urls, wagtail.images.admin_urls,
# wagtail.documents.admin_urls, the image chooser's), under admin/.
urlpatterns = [
    path("images/", _view(ScopedImagesIndexView.as_view())),
    path("images/results/", _view(ScopedImagesIndexView.as_view(results_only=True))),
    path("documents/", _view(ScopedDocumentsIndexView.as_view())),
    path(
        "documents/results/",
        _view(ScopedDocumentsIndexView.as_view(results_only=True)),
    ),
    path(
        f"{image_chooser_viewset.url_prefix}/", _view(image_chooser_viewset.choose_view)
    ),
    path("tag-autocomplete/", _view(tag_autocomplete)),
    path(
        "tag-autocomplete/<slug:app_name>/<slug:model_name>/",
        _view(tag_autocomplete),
    ),
]
