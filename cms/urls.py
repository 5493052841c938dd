from django.urls import path

from . import views

urlpatterns = [path("brand.css", views.brand_css, name="site-brand-css")]
