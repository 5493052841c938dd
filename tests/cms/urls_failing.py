"""The site's URLs plus one view that fails, to see the 500 page as a visitor
does (the suite's own URLconf; nothing of the product changes)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from config.urls import handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns


def failing(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [
    *i18n_patterns(path("fel/", failing), prefix_default_language=False),
    *site_urlpatterns,
]
