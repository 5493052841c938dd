from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import urls as cms_urls
from municipalities import api as municipalities_api
from reports import api as reports_api
from reports import views as reports_views

urlpatterns = [
    # Staff sign-in: its pages, and the throttled password reset (before Wagtail's).
    path("admin/", include("staffauth.urls")),
    # Wagtail's page reports, scoped to the user's kommun (before Wagtail's own).
    path("admin/reports/", include("cms.admin_reports")),
    # Wagtail's image and document screens and tag suggestions, likewise.
    path("admin/", include("cms.admin_media")),
    # Wagtail's workflow task chooser, for those who set up workflows only.
    path("admin/workflows/", include("cms.admin_setup")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/locate", municipalities_api.locate, name="api-locate"),
    path("api/v1/reports", reports_api.reports_in_bbox, name="api-reports"),
    path("api/v1/reports/nearby", reports_views.nearby_json, name="api-nearby"),
    path("api/v1/geocode", reports_views.geocode_json, name="api-geocode"),
    path("healthz", municipalities_api.healthz, name="healthz"),
    path("", include("casehub.urls")),
    path("", include("cms.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += i18n_patterns(
    path("", include("reports.urls")),
    path("", include("citizens.urls")),
    path("", include("stats.urls")),
    path("", include(cms_urls.site_urlpatterns)),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

handler500 = "config.views.server_error"
