"""The one great-circle distance (core.geo)."""

from __future__ import annotations

import numpy as np
import pytest

from core.geo import EARTH_RADIUS_M, haversine_km, haversine_m


def test_one_degree_of_latitude_and_a_known_city_pair():
    # one degree along a meridian is 2πR / 360
    assert haversine_m(47.0, -1.6, 48.0, -1.6) == pytest.approx(2 * np.pi * EARTH_RADIUS_M / 360)
    # Nantes (47.2184, -1.5536) to Paris (48.8566, 2.3522): about 343 km as the crow flies
    assert haversine_km(47.2184, -1.5536, 48.8566, 2.3522) == pytest.approx(343, abs=2)


def test_matrix_by_broadcasting_is_symmetric_with_a_zero_diagonal():
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(46, 48, 6), rng.uniform(-2, 0, 6)
    dist = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert dist.shape == (6, 6)
    np.testing.assert_allclose(dist, dist.T)
    assert np.diag(dist).max() == 0.0
    assert dist[0, 1] == pytest.approx(haversine_m(lat[0], lon[0], lat[1], lon[1]))


def test_km_and_metres_agree_and_the_radius_scales():
    assert haversine_km(47.0, -1.6, 47.1, -1.5) * 1000 == pytest.approx(
        haversine_m(47.0, -1.6, 47.1, -1.5)
    )
    assert haversine_m(47.0, -1.6, 47.1, -1.5, radius_m=2 * EARTH_RADIUS_M) == pytest.approx(
        2 * haversine_m(47.0, -1.6, 47.1, -1.5)
    )
    # antipodes: rounding cannot push the angle past π
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(np.pi * EARTH_RADIUS_M)
