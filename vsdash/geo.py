"""British National Grid to latitude/longitude, for the schools map."""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from pyproj import Transformer


@lru_cache(maxsize=1)
def _bng_to_wgs84() -> Transformer:
    """One transformer per process: building it reads the PROJ database."""
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def bng_to_latlon(easting: pl.Series, northing: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Latitude and longitude (WGS84) for GIAS Easting/Northing; null where either is missing."""
    valid = easting.is_not_null() & northing.is_not_null()
    lon = pl.Series("longitude", [None] * len(easting), dtype=pl.Float64)
    lat = pl.Series("latitude", [None] * len(easting), dtype=pl.Float64)
    if valid.any():
        x, y = _bng_to_wgs84().transform(easting.filter(valid).to_numpy(), northing.filter(valid).to_numpy())
        idx = valid.arg_true()
        lon = lon.scatter(idx, pl.Series(x, dtype=pl.Float64))
        lat = lat.scatter(idx, pl.Series(y, dtype=pl.Float64))
    return lat.round(6), lon.round(6)
