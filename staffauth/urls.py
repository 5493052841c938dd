"""Mounted under ``admin/`` before Wagtail's admin URLs (config/urls.py): the
password reset's first step is replaced by a throttled one; the rest is new."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "password_reset/",
        views.ThrottledPasswordResetView.as_view(),
        name="wagtailadmin_password_reset",
    ),
    path("two-factor/", views.two_factor, name="staffauth_two_factor"),
    path("two-factor/off/", views.two_factor_disable, name="staffauth_two_factor_off"),
    path("two-factor/verify/", views.verify, name="staffauth_verify"),
    path("two-factor/enrol/", views.enrol, name="staffauth_enrol"),
    path("oidc/<slug:slug>/", views.oidc_start, name="staffauth_oidc_start"),
    path(
        "oidc/<slug:slug>/callback/",
        views.oidc_callback,
        name="staffauth_oidc_callback",
    ),
]
