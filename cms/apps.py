from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Content")

    def ready(self) -> None:
        # Late: the image model, and the models the e-mail brand reads, are
        # known once the app registry is ready.
        from django.db.models.signals import pre_save
        from wagtail.images import get_image_model

        from reports.mail import brand_provider

        from .images import strip_on_save
        from .mail import report_brand

        # Editors' images lose their metadata as citizens' photos do.
        pre_save.connect(strip_on_save, sender=get_image_model())
        # E-mail about a kommun's reports carries its site's brand.
        brand_provider(report_brand)
