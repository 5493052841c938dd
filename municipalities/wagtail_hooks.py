"""Admin screens of municipalities: the kommun's staff, its districts, its
service promises and working days, when its reporters are asked "is it
fixed?", and the audit log.
Categories, extra questions, bodies and routes are shown in the case hub's "Case
systems" menu (casehub.wagtail_hooks)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .admin_views import DistrictViewSet, StaffMembershipViewSet
from .audit_views import AuditLogResultsView, AuditLogView, audit_readers
from .notice_views import OperationalMessageViewSet
from .promise_views import ServicePromiseViewSet, WorkCalendarViewSet
from .questionnaire_views import questionnaire_admins, questionnaire_settings_view


@hooks.register("register_admin_viewset")
def register_staff():
    return StaffMembershipViewSet()


@hooks.register("register_admin_viewset")
def register_districts():
    return DistrictViewSet()


@hooks.register("register_admin_viewset")
def register_service_promises():
    return ServicePromiseViewSet()


@hooks.register("register_admin_viewset")
def register_operational_messages():
    return OperationalMessageViewSet()


@hooks.register("register_admin_viewset")
def register_working_days():
    return WorkCalendarViewSet()


# --- the audit log ------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_audit_log_urls():
    return [
        path("audit-log/", AuditLogView.as_view(), name="audit_log"),
        path(
            "audit-log/results/",
            AuditLogResultsView.as_view(),
            name="audit_log_results",
        ),
    ]


class AuditLogMenuItem(MenuItem):
    def is_shown(self, request):
        return audit_readers(request.user)


@hooks.register("register_admin_menu_item")
def register_audit_log_menu_item():
    return AuditLogMenuItem(
        gettext_lazy("Audit log"),
        reverse("audit_log"),
        icon_name="history",
        order=230,
    )


# --- "is it fixed?" -----------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_questionnaire_urls():
    return [
        path(
            "kommun/is-it-fixed/",
            questionnaire_settings_view,
            name="questionnaire_settings",
        )
    ]


class QuestionnaireMenuItem(MenuItem):
    def is_shown(self, request):
        return questionnaire_admins(request.user)


@hooks.register("register_admin_menu_item")
def register_questionnaire_menu_item():
    return QuestionnaireMenuItem(
        gettext_lazy("Is it fixed?"),
        reverse("questionnaire_settings"),
        icon_name="help",
        order=225,
    )
