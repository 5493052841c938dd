from django.urls import path

from . import views

urlpatterns = [path("brand.css", views.brand_css, name="site-brand-css")]

# In the site's language (config.urls' i18n patterns).
site_urlpatterns = [path("sok/", views.site_search, name="site-search")]
