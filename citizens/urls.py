from django.urls import path

from . import views

urlpatterns = [
    path("konto/", views.account, name="citizen-account"),
    path("konto/skapa/", views.sign_up, name="citizen-sign-up"),
    path("konto/skapa/<str:token>/", views.sign_up_link, name="citizen-sign-up-link"),
    path("konto/logga-in/", views.sign_in, name="citizen-sign-in"),
    path(
        "konto/logga-in/lank/", views.sign_in_link_ask, name="citizen-sign-in-link-ask"
    ),
    path(
        "konto/logga-in/lank/<str:token>/",
        views.sign_in_link,
        name="citizen-sign-in-link",
    ),
    path("konto/logga-ut/", views.sign_out, name="citizen-sign-out"),
    path("konto/e-legitimation/", views.eid_start, name="citizen-eid-start"),
    path("konto/e-legitimation/klar/", views.eid_callback, name="citizen-eid-callback"),
    path("mina-data/", views.my_data, name="my-data"),
    path("mina-data/radera/", views.my_data_erase, name="my-data-erase"),
    path("mina-data/lank/<str:token>/", views.my_data_link, name="my-data-link"),
]
