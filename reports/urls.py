from django.urls import path, re_path

from . import alert_views, feeds, views

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
    path("bevaka/", alert_views.alert_new, name="alert-new"),
    path(
        "bevaka/bekrafta/<str:token>/",
        alert_views.alert_confirm_view,
        name="alert-confirm",
    ),
    path("bevakning/<str:token>/", alert_views.alert_manage, name="alert-manage"),
    path(
        "bevakning/<str:token>/avsluta/",
        alert_views.alert_end_view,
        name="alert-end",
    ),
    re_path(
        r"^flode/kommun/(?P<code>[0-9]{4})\.(?P<fmt>atom|rss)$",
        feeds.kommun_feed,
        name="feed-kommun",
    ),
    re_path(r"^flode/omrade\.(?P<fmt>atom|rss)$", feeds.area_feed, name="feed-area"),
    re_path(
        r"^flode/rapporter/(?P<pk>[0-9]{1,12})\.(?P<fmt>atom|rss)$",
        feeds.report_feed,
        name="feed-report",
    ),
]
