from django.conf import settings


def map_tiles(request) -> dict:
    """The platform's tile layer (configurable, OSM by default): the staff
    maps', and the public maps' unless their site has its own (``site_map``,
    from the kommun sites' settings above this app)."""
    _name, url, options = settings.LEAFLET_CONFIG["TILES"][0]
    return {"map_tiles": {"url": url, "attribution": options.get("attribution", "")}}
