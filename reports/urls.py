from django.urls import path

from . import views

urlpatterns = [
    path("rapportera/", views.report_new, name="report-new"),
    path("rapportera/tack/", views.report_thanks, name="report-thanks"),
    path("rapportera/kategorier/", views.categories_fragment, name="report-categories"),
    path("rapporter/", views.reports_map_page, name="reports-map"),
    path("rapporter/<int:pk>/", views.report_detail, name="report-detail"),
    path("rapporter/<int:pk>/folj/", views.report_follow_view, name="report-follow"),
    path(
        "rapporter/uppdatera/<int:pk>/",
        views.report_update_view,
        name="report-update",
    ),
    path("fixat/<str:token>/", views.questionnaire_view, name="questionnaire"),
    path("bekrafta/<str:token>/", views.report_confirm_view, name="report-confirm"),
    path(
        "folj/bekrafta/<str:token>/",
        views.subscription_confirm_view,
        name="subscription-confirm",
    ),
    path("avfolj/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("servicelofte/", views.service_promises_page, name="service-promises"),
    path("mina-sidor/", views.my_reports_page, name="my-reports"),
    path("mina-sidor/lank/<str:token>/", views.my_reports_link, name="my-reports-link"),
]
