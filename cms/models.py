from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from municipalities.models import Municipality


class NationalHomePage(Page):
    """The national site's home: report anywhere in Sweden."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ContentPage"]
    max_count = 1

    class Meta:
        verbose_name = _("national home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["participating_count"] = Municipality.objects.filter(
            participating=True
        ).count()
        return context


class MunicipalityHomePage(Page):
    """A kommun's own site home, edited by that kommun's editors."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("kommun home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["municipality"] = Municipality.objects.filter(
            site__root_page=self
        ).first()
        return context


class ContentPage(Page):
    """A plain content page (about, contact, how we handle reports…)."""

    body = RichTextField(_("body"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]
    parent_page_types = ["cms.NationalHomePage", "cms.MunicipalityHomePage"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("content page")
