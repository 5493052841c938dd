from django.conf import settings


def map_tiles(request) -> dict:
    """The tile layer every map on the site uses (configurable, OSM by default)."""
    _name, url, options = settings.LEAFLET_CONFIG["TILES"][0]
    return {"map_tiles": {"url": url, "attribution": options.get("attribution", "")}}
