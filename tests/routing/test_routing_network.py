"""Road networks from the real shared extracts, matrices, snapping and the fallback."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from core.errors import FallbackWarning, InputError
from core.geo import haversine_m
from routing.matrix import haversine_matrix, travel_matrix
from routing.network import HAVERSINE, ROAD, SnapWarning, network_from_file


def _points(net, n, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.choice(net.num_nodes, n, replace=False)
    # a few metres off the nodes, as real addresses are
    return net.node_lat[idx] + 1e-5, net.node_lon[idx] - 1e-5


def test_pbf_and_bz2_give_the_same_graph(stbarth, osm_dir):
    # ``stbarth`` is the .osm.pbf parsed by the session fixture; the .bz2 is parsed here
    bz2 = network_from_file(osm_dir / "saint_barthelemy.osm.bz2")
    assert stbarth.num_nodes == bz2.num_nodes
    assert stbarth.graph.number_of_edges() == bz2.graph.number_of_edges()
    assert set(stbarth.node_ids.tolist()) == set(bz2.node_ids.tolist())
    assert stbarth.time_csr.sum() == pytest.approx(bz2.time_csr.sum())
    # the README's figures for this extract
    assert stbarth.num_nodes == 896
    assert stbarth.graph.number_of_edges() == 1885


def test_elements_give_the_graph_osmnx_reads_from_xml(osm_dir):
    # the direct build skips osmnx's XML round trip: same graph as through the XML file
    from routing.network import _drive_elements, _graph_from_elements

    elements = _drive_elements(osm_dir / "saint_barthelemy.osm.pbf")
    direct = _graph_from_elements(elements)
    via_xml = _graph_from_elements(elements, via_xml=True)
    assert set(direct.nodes) == set(via_xml.nodes)
    assert sorted(direct.edges(keys=False)) == sorted(via_xml.edges(keys=False))
    lengths = sorted(d["length"] for *_, d in direct.edges(data=True))
    assert lengths == pytest.approx(sorted(d["length"] for *_, d in via_xml.edges(data=True)))


def test_graph_is_strongly_connected_with_travel_times(stbarth):
    assert nx.is_strongly_connected(stbarth.graph)
    for *_, data in stbarth.graph.edges(data=True):
        assert data["travel_time"] > 0
        assert data["speed_kph"] > 0


def test_redon_clipped_ways_are_dropped(osm_dir):
    net = network_from_file(osm_dir / "redon.osm.bz2")
    assert net.num_nodes == 74
    assert nx.is_strongly_connected(net.graph)


def test_matrix_is_finite_and_asymmetric(stbarth):
    lat, lon = _points(stbarth, 40)
    m = travel_matrix(stbarth, lat, lon)
    assert m.method == ROAD
    assert np.isfinite(m.duration_s).all() and np.isfinite(m.dist_m).all()
    assert (np.diag(m.duration_s) == 0).all()
    off = ~np.eye(40, dtype=bool)
    assert (m.duration_s[off] > 0).all()
    assert np.abs(m.duration_s - m.duration_s.T).max() > 1  # one-way streets
    # a road is never shorter than the straight line
    crow = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert (m.dist_m[off] >= crow[off] * 0.999).all()


def test_matrix_lengths_follow_the_fastest_path(stbarth):
    lat, lon = _points(stbarth, 6, seed=3)
    m = travel_matrix(stbarth, lat, lon)
    nodes, snap = stbarth.snap(lat, lon)
    g = stbarth.graph
    for i in range(3):
        for j in range(3, 6):
            a, b = int(stbarth.node_ids[nodes[i]]), int(stbarth.node_ids[nodes[j]])
            path = nx.shortest_path(g, a, b, weight="travel_time")
            time = sum(
                min(d["travel_time"] for d in g.get_edge_data(u, v).values())
                for u, v in itertools.pairwise(path)
            )
            length = sum(
                min(g.get_edge_data(u, v).values(), key=lambda d: d["travel_time"])["length"]
                for u, v in itertools.pairwise(path)
            )
            access = (snap[i] + snap[j]) / (20 / 3.6)
            assert m.duration_s[i, j] == pytest.approx(time + access, rel=1e-6)
            assert m.dist_m[i, j] == pytest.approx(length + snap[i] + snap[j], rel=1e-6)


def test_far_point_warns(stbarth):
    lat, lon = _points(stbarth, 3)
    lat = np.append(lat, 17.70)  # in the sea, ~20 km south of the island
    lon = np.append(lon, -62.85)
    with pytest.warns(SnapWarning, match="more than 500 m"):
        m = travel_matrix(stbarth, lat, lon)
    assert m.snap_dist_m[-1] > 10_000


def test_matrix_cache(stbarth, tmp_path):
    lat, lon = _points(stbarth, 10)
    first = travel_matrix(stbarth, lat, lon, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("matrix_*.npz"))) == 1
    second = travel_matrix(stbarth, lat, lon, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.duration_s, second.duration_s)
    travel_matrix(stbarth, lat[:5], lon[:5], cache_dir=tmp_path)  # other points, other key
    assert len(list(tmp_path.glob("matrix_*.npz"))) == 2


def test_fallback_is_flagged_and_sane():
    lat = np.array([47.19, 47.21, 47.10])
    lon = np.array([-1.57, -1.60, -1.81])
    with pytest.warns(FallbackWarning, match=HAVERSINE):
        m = travel_matrix(None, lat, lon)
    assert m.method == HAVERSINE
    crow = haversine_m(lat[0], lon[0], lat[1], lon[1])
    assert m.dist_m[0, 1] == pytest.approx(1.3 * crow)
    # 3.35 km: the first 2 km at 25 km/h, the rest at 40 km/h
    d = 1.3 * crow
    assert m.duration_s[0, 1] == pytest.approx(2000 / (25 / 3.6) + (d - 2000) / (40 / 3.6))
    far = haversine_matrix(lat, lon)
    assert (far.duration_s[0, 2] / far.dist_m[0, 2]) < (far.duration_s[0, 1] / far.dist_m[0, 1])


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        network_from_file(tmp_path / "nope.osm.pbf")
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    with pytest.raises(InputError, match="expected"):
        network_from_file(bad)
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    with pytest.raises(InputError, match="no drivable road"):
        network_from_file(empty)
