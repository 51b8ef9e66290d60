"""Generate the sample territory: west of Nantes + Pays de Retz, a hub near the MIN in Rezé.

Usage::

    python data/generate.py --out data/sample --seed 42 [--scale 10] [--years 2]

or, from Python, ``generate_territory(out_dir, seed=42, scale=1.0)``.

Everything is drawn from ``numpy.random.default_rng(seed)`` (one spawned stream per table
family), rows are sorted and floats rounded, so the same seed and scale give byte-identical
files. The figures (yields, harvest windows, prices, household sizes) are rounded typical values
from the references listed in ``data/README.md``; places are real communes, the organisations,
farms and people are invented.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from core.geo import haversine_m
from demand.caisses import INDICATIVE_BANDS, consumption_units

DEFAULT_COMMUNES = (
    Path(__file__).resolve().parents[2] / "shared/osm/communes/communes-44-loire-atlantique.geojson"
)
HISTORY_START = date(2024, 1, 1)  # Monday of ISO week 2024-W01
HISTORY_YEARS = 2  # 2024 and 2025 both have 52 ISO weeks
TX_YEAR = 2025  # caisse transactions: the last 12 months of the history
INFLATION = 0.025  # yearly, on retail prices
HUB = (47.1895, -1.5745)  # Rezé, zone des Trois-Moulins, next to the MIN Nantes Métropole
MAX_KM_FROM_HUB = 49.0
LAND_TARGET = 0.85  # demand needs ~85 % of the partner land at its weekly peak

# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------

#: INSEE code -> (name, representative point lat, lon, area km²), computed from the IGN Admin
#: Express commune polygons (representative_point in Lambert-93). Used when the polygon file is
#: absent, and as anchors for farms and extra sites.
COMMUNES: dict[str, tuple[str, float, float, float]] = {
    "44109": ("Nantes", 47.238, -1.5358, 65.8),
    "44143": ("Rezé", 47.1734, -1.5441, 15.5),
    "44162": ("Saint-Herblain", 47.2264, -1.6351, 29.9),
    "44020": ("Bouguenais", 47.1718, -1.615, 31.2),
    "44047": ("Couëron", 47.2386, -1.7059, 48.8),
    "44074": ("Indre", 47.1995, -1.6743, 4.7),
    "44120": ("Le Pellerin", 47.2334, -1.8507, 31.1),
    "44220": ("Vue", 47.2001, -1.8954, 19.6),
    "44039": ("Cheix-en-Retz", 47.1816, -1.7982, 8.3),
    "44145": ("Rouans", 47.1792, -1.8654, 37.8),
    "44166": ("Saint-Jean-de-Boiseau", 47.1916, -1.7226, 11.5),
    "44101": ("La Montagne", 47.1857, -1.6804, 3.6),
    "44024": ("Brains", 47.1696, -1.7196, 15.4),
    "44133": ("Port-Saint-Père", 47.1374, -1.7749, 32.7),
    "44186": ("Sainte-Pazanne", 47.0852, -1.8207, 41.8),
    "44061": ("Frossay", 47.2536, -1.9243, 59.7),
    "44164": ("Saint-Hilaire-de-Chaléons", 47.0978, -1.8862, 35.3),
    "44018": ("Bouaye", 47.148, -1.6662, 14.1),
    "44150": ("Saint-Aignan-Grandlieu", 47.13, -1.6301, 18.1),
    "44178": ("Saint-Mars-de-Coutais", 47.0771, -1.7602, 34.5),
    "44087": ("Machecoul-Saint-Même", 47.0056, -1.8092, 85.8),
    "44158": ("Saint-Étienne-de-Montluc", 47.2685, -1.7903, 57.4),
    "44217": ("Vigneux-de-Bretagne", 47.3165, -1.7157, 52.9),
    "44194": ("Sautron", 47.2736, -1.6872, 17.7),
    "44114": ("Orvault", 47.2735, -1.6242, 27.8),
    "44169": ("Saint-Julien-de-Concelles", 47.2467, -1.4087, 33.3),
    "44029": ("Divatte-sur-Loire", 47.2781, -1.3351, 35.6),
    "44215": ("Vertou", 47.1542, -1.4685, 38.1),
    "44071": ("Haute-Goulaine", 47.1952, -1.409, 20.9),
    "44190": ("Saint-Sébastien-sur-Loire", 47.2059, -1.5039, 11.7),
    "44009": ("Basse-Goulaine", 47.213, -1.4639, 13.8),
    "44026": ("Carquefou", 47.2978, -1.463, 43.4),
    "44035": ("La Chapelle-sur-Erdre", 47.3032, -1.5558, 33.4),
    "44172": ("Sainte-Luce-sur-Loire", 47.2533, -1.4705, 11.4),
    "44204": ("Thouaré-sur-Loire", 47.276, -1.4346, 12.5),
    "44198": ("Les Sorinières", 47.141, -1.5174, 13.1),
    "44209": ("Treillières", 47.3144, -1.6196, 29.1),
    "44130": ("Pont-Saint-Martin", 47.1253, -1.5738, 21.8),
    "44171": ("Saint-Léger-les-Vignes", 47.144, -1.7157, 6.7),
    "44005": ("Chaumes-en-Retz", 47.1564, -1.9195, 77.4),
    "44188": ("Saint-Philbert-de-Grand-Lieu", 47.0691, -1.666, 97.8),
    "44041": ("La Chevrolière", 47.0909, -1.5958, 32.6),
    "44223": ("Geneston", 47.0568, -1.5144, 8.3),
    "44102": ("Montbert", 47.0678, -1.4676, 29.0),
    "44002": ("Aigrefeuille-sur-Maine", 47.0733, -1.4097, 14.7),
    "44037": ("Château-Thébaud", 47.1155, -1.4476, 17.7),
    "44070": ("La Haie-Fouassière", 47.1609, -1.4019, 11.9),
    "44084": ("Le Loroux-Bottereau", 47.2324, -1.3329, 44.8),
    "44094": ("Mauves-sur-Loire", 47.3154, -1.4044, 14.4),
    "44066": ("Grandchamps-des-Fontaines", 47.362, -1.6225, 34.1),
    "44201": ("Sucé-sur-Erdre", 47.3506, -1.5242, 41.4),
    "44045": ("Cordemais", 47.2912, -1.8404, 37.6),
    "44014": ("Le Bignon", 47.1, -1.507, 27.9),
}

#: Points along the Loire (and the lower Sèvre) between Divatte and Saint-Viaud, sampled every
#: ~400 m on the boundary shared by north-bank and south-bank communes. Farms keep away from it.
LOIRE: tuple[tuple[float, float], ...] = (
    (47.181, -1.5255),
    (47.1813, -1.5189),
    (47.183, -1.5292),
    (47.1843, -1.6099),
    (47.1845, -1.5344),
    (47.186, -1.6034),
    (47.1861, -1.6134),
    (47.1863, -1.6003),
    (47.1866, -1.6199),
    (47.1882, -1.6235),
    (47.1885, -1.5351),
    (47.1887, -1.63),
    (47.1888, -1.515),
    (47.1892, -1.6756),
    (47.1898, -1.6694),
    (47.1901, -1.6353),
    (47.1906, -1.6633),
    (47.1907, -1.6818),
    (47.1908, -1.6413),
    (47.1913, -1.6552),
    (47.1914, -1.6474),
    (47.1915, -1.6872),
    (47.1923, -1.5103),
    (47.1926, -1.5407),
    (47.1932, -1.6934),
    (47.1935, -1.5467),
    (47.1935, -1.7006),
    (47.1938, -1.7078),
    (47.1943, -1.5527),
    (47.1948, -1.5043),
    (47.1948, -1.7142),
    (47.1953, -1.5587),
    (47.1955, -1.7202),
    (47.1962, -1.5649),
    (47.1965, -1.5707),
    (47.1967, -1.726),
    (47.1972, -1.5766),
    (47.1976, -1.4987),
    (47.1978, -1.5824),
    (47.1978, -1.7318),
    (47.1983, -1.5884),
    (47.1986, -1.7381),
    (47.1988, -1.5944),
    (47.1994, -1.6003),
    (47.1997, -1.7445),
    (47.2005, -1.7507),
    (47.2006, -1.4944),
    (47.2012, -1.4919),
    (47.2016, -1.4855),
    (47.2018, -1.7567),
    (47.2032, -1.7625),
    (47.2033, -1.4798),
    (47.2048, -1.7677),
    (47.205, -1.4739),
    (47.2064, -1.7731),
    (47.2066, -1.4679),
    (47.2078, -1.7789),
    (47.2082, -1.4619),
    (47.2085, -1.7856),
    (47.2091, -1.7923),
    (47.2097, -1.4562),
    (47.2098, -1.799),
    (47.2106, -1.8054),
    (47.2113, -1.4503),
    (47.2117, -1.8116),
    (47.2129, -1.4443),
    (47.2129, -1.8174),
    (47.2142, -1.8233),
    (47.2149, -1.4391),
    (47.2155, -1.8292),
    (47.2169, -1.8349),
    (47.2172, -1.4346),
    (47.2182, -1.8409),
    (47.2196, -1.4301),
    (47.2196, -1.8467),
    (47.2209, -1.8526),
    (47.2218, -1.4256),
    (47.2223, -1.8584),
    (47.2236, -1.8643),
    (47.2241, -1.4211),
    (47.225, -1.8702),
    (47.2261, -1.4162),
    (47.2263, -1.876),
    (47.2276, -1.8819),
    (47.2281, -1.4112),
    (47.2289, -1.8878),
    (47.23, -1.4063),
    (47.2303, -1.8937),
    (47.2316, -1.8995),
    (47.232, -1.4013),
    (47.2329, -1.9054),
    (47.2339, -1.3963),
    (47.2342, -1.9113),
    (47.2356, -1.9172),
    (47.2359, -1.3912),
    (47.2369, -1.923),
    (47.2377, -1.386),
    (47.2382, -1.9289),
    (47.2396, -1.3808),
    (47.2396, -1.9348),
    (47.2409, -1.9406),
    (47.2414, -1.3756),
    (47.2422, -1.9465),
    (47.2432, -1.3704),
    (47.2436, -1.9524),
    (47.2449, -1.9583),
    (47.245, -1.3652),
    (47.2462, -1.9641),
    (47.2468, -1.36),
    (47.2476, -1.97),
    (47.2485, -1.3547),
    (47.2489, -1.9759),
    (47.2502, -1.9818),
    (47.2502, -1.3494),
    (47.2516, -1.9876),
    (47.2519, -1.344),
    (47.2529, -1.9935),
    (47.2536, -1.3387),
    (47.2542, -1.9994),
    (47.2553, -1.3333),
    (47.2556, -2.0052),
    (47.2569, -2.0111),
    (47.257, -1.3279),
    (47.2582, -2.017),
    (47.2586, -1.3225),
    (47.2596, -2.0228),
    (47.2603, -1.317),
    (47.2609, -2.0287),
    (47.2619, -1.3116),
    (47.2622, -2.0346),
    (47.2635, -1.3061),
    (47.2636, -2.0404),
    (47.2649, -2.0463),
    (47.2652, -1.3007),
    (47.2663, -2.0522),
    (47.2668, -1.2952),
    (47.2676, -2.058),
    (47.2684, -1.2897),
    (47.2689, -2.0639),
    (47.2701, -1.2842),
    (47.2703, -2.0698),
)
GRAND_LIEU = (47.090, -1.675, 4300.0)  # lac de Grand-Lieu: centre and a keep-out radius (m)


def dist_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres on the 6,371 km sphere the sample was placed with."""
    return haversine_m(lat1, lon1, lat2, lon2, radius_m=6_371_000.0)


class Geo:
    """Commune polygons (when the file is there) and point placement inside them, around the
    hub of ``where`` (the sample's Nantes place by default)."""

    def __init__(self, communes_path: Path | None, where: Place | None = None):
        self.where = NANTES if where is None else where
        self.polys: dict[str, object] = {}
        if communes_path is not None and Path(communes_path).exists():
            import geopandas as gpd
            import shapely

            gdf = gpd.read_file(communes_path)
            for code, geom in zip(gdf["code"].astype(str), gdf.geometry, strict=True):
                if code in self.where.communes:
                    shapely.prepare(geom)
                    self.polys[code] = geom

    @property
    def has_polygons(self) -> bool:
        return bool(self.polys)

    def inside(self, code: str, lat: float, lon: float) -> bool:
        geom = self.polys.get(code)
        if geom is None:
            return True
        import shapely

        return bool(shapely.contains_xy(geom, lon, lat))

    def near_water(self, lat: float, lon: float, margin_m: float) -> bool:
        if margin_m <= 0:
            return False
        for lake_lat, lake_lon, radius_m in self.where.lakes:
            if dist_m(lat, lon, lake_lat, lake_lon) < radius_m:
                return True
        river = self.where.river_array
        if not len(river):
            return False
        return bool(dist_m(lat, lon, river[:, 0], river[:, 1]).min() < margin_m)

    def place(
        self,
        rng: np.random.Generator,
        code: str,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        water_m: float = 0.0,
    ) -> tuple[float, float]:
        """A random point within ``radius_m`` of (lat, lon), inside the commune, off the water."""
        for attempt in range(400):
            r = radius_m * (1 + attempt // 100) * math.sqrt(rng.random())
            theta = 2 * math.pi * rng.random()
            la = lat + r * math.cos(theta) / 111_200.0
            lo = lon + r * math.sin(theta) / (111_200.0 * math.cos(math.radians(lat)))
            if not self.inside(code, la, lo) or self.near_water(la, lo, water_m):
                continue
            hub = self.where.hub
            if dist_m(la, lo, hub[0], hub[1]) > self.where.max_km * 1000:
                continue
            return round(la, 5), round(lo, 5)
        return round(lat, 5), round(lon, 5)


# --------------------------------------------------------------------------------------------
# Catalogue and crop calendar
# --------------------------------------------------------------------------------------------

# product_id, name, category, unit, kg_per_unit, storage, shelf_life_days, fair €/kg,
# reference demand (kg per week at the season's peak for a medium épicerie solidaire)
PRODUCTS = (
    (
        "pomme_de_terre",
        "Pomme de terre de conservation",
        "vegetable",
        "kg",
        1.0,
        "ambient",
        180,
        1.55,
        40,
    ),
    ("pdt_primeur", "Pomme de terre primeur", "vegetable", "kg", 1.0, "fresh", 14, 2.6, 15),
    ("carotte", "Carotte", "vegetable", "kg", 1.0, "fresh", 90, 1.9, 25),
    ("carotte_botte", "Carotte nouvelle en botte", "vegetable", "bunch", 0.6, "fresh", 7, 2.6, 6),
    ("oignon", "Oignon jaune", "vegetable", "kg", 1.0, "ambient", 240, 1.8, 12),
    ("echalote", "Échalote", "vegetable", "kg", 1.0, "ambient", 150, 4.5, 2),
    ("ail", "Ail", "vegetable", "kg", 1.0, "ambient", 180, 9.0, 1.2),
    ("poireau", "Poireau", "vegetable", "kg", 1.0, "fresh", 14, 2.6, 15),
    ("tomate", "Tomate", "vegetable", "kg", 1.0, "fresh", 7, 4.0, 30),
    ("tomate_cerise", "Tomate cerise", "vegetable", "kg", 1.0, "fresh", 7, 7.5, 3),
    ("courgette", "Courgette", "vegetable", "kg", 1.0, "fresh", 7, 2.2, 15),
    ("concombre", "Concombre", "vegetable", "piece", 0.4, "fresh", 10, 3.0, 6),
    ("aubergine", "Aubergine", "vegetable", "kg", 1.0, "fresh", 8, 3.8, 3),
    ("poivron", "Poivron", "vegetable", "kg", 1.0, "fresh", 10, 5.0, 3),
    ("melon", "Melon charentais", "fruit", "piece", 1.0, "fresh", 7, 2.5, 8),
    ("laitue", "Laitue", "vegetable", "piece", 0.3, "fresh", 5, 3.4, 10),
    ("mache", "Mâche nantaise", "vegetable", "kg", 1.0, "fresh", 5, 9.0, 2),
    ("epinard", "Épinard", "vegetable", "kg", 1.0, "fresh", 5, 5.0, 3),
    ("blette", "Blette", "vegetable", "kg", 1.0, "fresh", 5, 2.8, 4),
    ("chou", "Chou pommé", "vegetable", "piece", 1.2, "fresh", 30, 1.6, 10),
    ("chou_fleur", "Chou-fleur", "vegetable", "piece", 1.0, "fresh", 10, 2.4, 8),
    ("brocoli", "Brocoli", "vegetable", "kg", 1.0, "fresh", 7, 4.0, 3),
    ("radis", "Radis", "vegetable", "bunch", 0.25, "fresh", 5, 4.4, 3),
    ("navet", "Navet", "vegetable", "kg", 1.0, "fresh", 30, 2.2, 4),
    ("betterave", "Betterave rouge", "vegetable", "kg", 1.0, "fresh", 60, 2.0, 5),
    ("celeri_rave", "Céleri-rave", "vegetable", "kg", 1.0, "fresh", 60, 2.4, 4),
    ("panais", "Panais", "vegetable", "kg", 1.0, "fresh", 45, 3.0, 4),
    ("courge", "Courge butternut", "vegetable", "kg", 1.0, "ambient", 120, 1.8, 12),
    ("potimarron", "Potimarron", "vegetable", "kg", 1.0, "ambient", 120, 2.0, 10),
    ("haricot_vert", "Haricot vert", "vegetable", "kg", 1.0, "fresh", 5, 6.5, 3),
    ("fenouil", "Fenouil", "vegetable", "kg", 1.0, "fresh", 10, 3.2, 3),
    ("persil", "Persil", "vegetable", "bunch", 0.1, "fresh", 7, 12.0, 1),
    ("fraise", "Fraise", "fruit", "kg", 1.0, "fresh", 3, 9.0, 6),
    ("framboise", "Framboise", "fruit", "kg", 1.0, "fresh", 3, 14.0, 1.2),
    ("pomme", "Pomme", "fruit", "kg", 1.0, "fresh", 180, 2.3, 25),
    ("poire", "Poire", "fruit", "kg", 1.0, "fresh", 60, 2.6, 8),
    ("prune", "Prune", "fruit", "kg", 1.0, "fresh", 7, 3.0, 4),
    # not grown by the crop planner: bought from partner dairies, millers, bakers, breeders
    ("lentilles", "Lentilles vertes", "legume", "kg", 1.0, "ambient", 365, 4.5, 5),
    ("mogettes", "Mogettes (haricots blancs secs)", "legume", "kg", 1.0, "ambient", 365, 6.0, 3),
    ("pois_chiches", "Pois chiches", "legume", "kg", 1.0, "ambient", 365, 4.0, 3),
    ("lait", "Lait demi-écrémé", "dairy", "litre", 1.03, "chilled", 7, 0.95, 40),
    ("yaourt", "Yaourt nature (pot de 500 g)", "dairy", "jar", 0.5, "chilled", 21, 3.2, 5),
    ("fromage_blanc", "Fromage blanc", "dairy", "kg", 1.0, "chilled", 10, 3.8, 3),
    ("beurre", "Beurre doux (plaquette 250 g)", "dairy", "piece", 0.25, "chilled", 30, 10.0, 1.5),
    ("fromage", "Tomme de vache", "dairy", "kg", 1.0, "chilled", 45, 14.0, 3),
    ("creme", "Crème fraîche (pot 25 cl)", "dairy", "jar", 0.25, "chilled", 14, 6.0, 1.2),
    ("oeufs", "Œufs plein air (boîte de 12)", "egg", "dozen", 0.72, "fresh", 28, 5.3, 20),
    ("poulet", "Poulet fermier", "meat", "kg", 1.0, "chilled", 7, 9.5, 6),
    ("porc", "Côtes de porc", "meat", "kg", 1.0, "chilled", 5, 11.0, 4),
    ("boeuf_hache", "Steak haché de bœuf (surgelé)", "meat", "kg", 1.0, "frozen", 180, 13.0, 4),
    ("pain", "Pain de campagne au levain (1 kg)", "bakery", "piece", 1.0, "ambient", 3, 4.8, 12),
    ("brioche", "Brioche vendéenne (500 g)", "bakery", "piece", 0.5, "ambient", 7, 7.0, 2),
    ("farine", "Farine de blé T80", "grocery", "kg", 1.0, "ambient", 270, 1.8, 5),
    ("farine_sarrasin", "Farine de sarrasin", "grocery", "kg", 1.0, "ambient", 270, 4.0, 2),
    ("pates", "Pâtes artisanales", "grocery", "kg", 1.0, "ambient", 365, 3.5, 5),
    ("huile_tournesol", "Huile de tournesol", "grocery", "litre", 0.92, "ambient", 365, 4.0, 5),
    ("huile_colza", "Huile de colza", "grocery", "litre", 0.92, "ambient", 365, 3.8, 2.5),
    ("miel", "Miel de fleurs (500 g)", "grocery", "jar", 0.5, "ambient", 730, 14.0, 1),
    ("confiture", "Confiture de fraises (370 g)", "grocery", "jar", 0.37, "ambient", 365, 8.0, 1.1),
    ("jus_pomme", "Jus de pomme", "grocery", "litre", 1.0, "ambient", 365, 2.2, 10),
    ("sel_guerande", "Gros sel de Guérande", "grocery", "kg", 1.0, "ambient", 1825, 2.5, 0.8),
)


@dataclass(frozen=True)
class CropSpec:
    crop_id: str
    name: str
    product: str
    family: str
    land: str  # open_field | greenhouse | orchard
    plant_first: int
    plant_last: int
    harvest_first: int  # weeks after planting
    harvest_last: int
    yield_kg_m2: float  # over the whole cycle
    labour_h_m2: float  # over the whole cycle
    min_beds: int
    share: float  # share of the product's supply this crop provides

    @property
    def plant_weeks(self) -> list[int]:
        if self.plant_last >= self.plant_first:
            return list(range(self.plant_first, self.plant_last + 1))
        return list(range(self.plant_first, 53)) + list(range(1, self.plant_last + 1))


O, G, V = "open_field", "greenhouse", "orchard"  # noqa: E741
_C = CropSpec
CROPS = (
    _C(
        "carotte_primeur",
        "Carotte primeur (botte)",
        "carotte_botte",
        "apiaceae",
        O,
        9,
        14,
        12,
        16,
        3.0,
        0.8,
        1,
        0.7,
    ),
    _C(
        "carotte_abri",
        "Carotte primeur sous abri",
        "carotte_botte",
        "apiaceae",
        G,
        2,
        6,
        12,
        15,
        3.5,
        0.9,
        1,
        0.3,
    ),
    _C(
        "carotte_conservation",
        "Carotte de conservation",
        "carotte",
        "apiaceae",
        O,
        18,
        26,
        16,
        30,
        4.0,
        0.35,
        2,
        1.0,
    ),
    _C(
        "pdt_primeur",
        "Pomme de terre primeur",
        "pdt_primeur",
        "solanaceae",
        O,
        8,
        12,
        11,
        14,
        2.0,
        0.2,
        2,
        1.0,
    ),
    _C(
        "pdt_conservation",
        "Pomme de terre de conservation",
        "pomme_de_terre",
        "solanaceae",
        O,
        14,
        18,
        16,
        20,
        2.8,
        0.15,
        2,
        1.0,
    ),
    _C(
        "oignon",
        "Oignon jaune (bulbilles)",
        "oignon",
        "alliaceae",
        O,
        9,
        13,
        18,
        21,
        3.0,
        0.3,
        1,
        1.0,
    ),
    _C("echalote", "Échalote", "echalote", "alliaceae", O, 6, 10, 20, 23, 1.6, 0.45, 1, 1.0),
    _C("ail", "Ail d'automne", "ail", "alliaceae", O, 44, 50, 30, 33, 0.8, 0.45, 1, 1.0),
    _C(
        "poireau_ete",
        "Poireau d'été-automne",
        "poireau",
        "alliaceae",
        O,
        14,
        18,
        16,
        26,
        3.0,
        0.45,
        1,
        0.4,
    ),
    _C(
        "poireau_hiver",
        "Poireau d'hiver",
        "poireau",
        "alliaceae",
        O,
        22,
        28,
        20,
        38,
        3.0,
        0.5,
        2,
        0.6,
    ),
    _C(
        "tomate_abri",
        "Tomate sous abri",
        "tomate",
        "solanaceae",
        G,
        16,
        20,
        10,
        24,
        10.0,
        1.3,
        1,
        0.75,
    ),
    _C(
        "tomate_plein_champ",
        "Tomate plein champ",
        "tomate",
        "solanaceae",
        O,
        20,
        22,
        12,
        19,
        5.0,
        0.8,
        1,
        0.25,
    ),
    _C(
        "tomate_cerise_abri",
        "Tomate cerise sous abri",
        "tomate_cerise",
        "solanaceae",
        G,
        16,
        20,
        11,
        24,
        5.0,
        1.6,
        1,
        1.0,
    ),
    _C(
        "courgette",
        "Courgette plein champ",
        "courgette",
        "cucurbitaceae",
        O,
        18,
        26,
        6,
        14,
        5.0,
        0.4,
        1,
        0.7,
    ),
    _C(
        "courgette_abri",
        "Courgette précoce sous abri",
        "courgette",
        "cucurbitaceae",
        G,
        12,
        15,
        6,
        14,
        6.0,
        0.6,
        1,
        0.3,
    ),
    _C(
        "concombre_abri",
        "Concombre sous abri",
        "concombre",
        "cucurbitaceae",
        G,
        15,
        22,
        6,
        14,
        8.0,
        1.0,
        1,
        1.0,
    ),
    _C(
        "aubergine_abri",
        "Aubergine sous abri",
        "aubergine",
        "solanaceae",
        G,
        17,
        20,
        10,
        20,
        5.0,
        1.0,
        1,
        1.0,
    ),
    _C(
        "poivron_abri",
        "Poivron sous abri",
        "poivron",
        "solanaceae",
        G,
        17,
        20,
        12,
        22,
        4.0,
        1.0,
        1,
        1.0,
    ),
    _C(
        "melon",
        "Melon charentais (paillage, voile)",
        "melon",
        "cucurbitaceae",
        O,
        18,
        22,
        11,
        15,
        2.5,
        0.5,
        1,
        1.0,
    ),
    _C(
        "laitue_abri_printemps",
        "Laitue de printemps sous abri",
        "laitue",
        "asteraceae",
        G,
        3,
        8,
        8,
        11,
        3.0,
        0.45,
        1,
        0.2,
    ),
    _C(
        "laitue_printemps",
        "Laitue de printemps",
        "laitue",
        "asteraceae",
        O,
        10,
        16,
        7,
        10,
        3.0,
        0.35,
        1,
        0.25,
    ),
    _C(
        "laitue_ete",
        "Laitue d'été (batavia)",
        "laitue",
        "asteraceae",
        O,
        17,
        32,
        5,
        8,
        2.8,
        0.35,
        1,
        0.25,
    ),
    _C(
        "laitue_automne",
        "Laitue d'automne",
        "laitue",
        "asteraceae",
        O,
        33,
        36,
        7,
        10,
        2.8,
        0.35,
        1,
        0.15,
    ),
    _C(
        "laitue_abri",
        "Laitue d'hiver sous abri",
        "laitue",
        "asteraceae",
        G,
        36,
        42,
        8,
        14,
        3.0,
        0.45,
        1,
        0.15,
    ),
    _C(
        "mache",
        "Mâche nantaise plein champ",
        "mache",
        "caprifoliaceae",
        O,
        34,
        40,
        8,
        20,
        1.0,
        0.7,
        2,
        0.6,
    ),
    _C(
        "mache_abri",
        "Mâche nantaise sous abri",
        "mache",
        "caprifoliaceae",
        G,
        38,
        46,
        8,
        18,
        1.2,
        0.8,
        1,
        0.4,
    ),
    _C(
        "epinard_printemps",
        "Épinard de printemps",
        "epinard",
        "amaranthaceae",
        O,
        8,
        12,
        7,
        11,
        1.5,
        0.5,
        1,
        0.5,
    ),
    _C(
        "epinard_automne",
        "Épinard d'automne",
        "epinard",
        "amaranthaceae",
        O,
        32,
        36,
        7,
        14,
        1.5,
        0.5,
        1,
        0.5,
    ),
    _C("blette", "Blette", "blette", "amaranthaceae", O, 14, 20, 8, 24, 4.0, 0.4, 1, 1.0),
    _C(
        "chou_pomme",
        "Chou pommé d'automne-hiver",
        "chou",
        "brassicaceae",
        O,
        20,
        26,
        14,
        26,
        3.5,
        0.3,
        1,
        1.0,
    ),
    _C(
        "chou_fleur",
        "Chou-fleur d'automne",
        "chou_fleur",
        "brassicaceae",
        O,
        22,
        28,
        14,
        20,
        2.5,
        0.35,
        1,
        1.0,
    ),
    _C("brocoli", "Brocoli", "brocoli", "brassicaceae", O, 18, 30, 10, 14, 1.2, 0.4, 1, 1.0),
    _C(
        "radis",
        "Radis (semis échelonnés)",
        "radis",
        "brassicaceae",
        O,
        10,
        36,
        4,
        6,
        1.5,
        0.5,
        1,
        0.75,
    ),
    _C("radis_abri", "Radis sous abri", "radis", "brassicaceae", G, 2, 9, 5, 7, 1.5, 0.5, 1, 0.25),
    _C("navet", "Navet d'automne", "navet", "brassicaceae", O, 30, 36, 8, 14, 3.0, 0.3, 1, 1.0),
    _C(
        "betterave",
        "Betterave rouge",
        "betterave",
        "amaranthaceae",
        O,
        16,
        24,
        12,
        22,
        3.5,
        0.35,
        1,
        1.0,
    ),
    _C(
        "celeri_rave", "Céleri-rave", "celeri_rave", "apiaceae", O, 18, 22, 20, 30, 3.0, 0.4, 1, 1.0
    ),
    _C("panais", "Panais", "panais", "apiaceae", O, 16, 22, 24, 36, 2.5, 0.4, 1, 1.0),
    _C(
        "courge",
        "Courge butternut",
        "courge",
        "cucurbitaceae",
        O,
        20,
        22,
        16,
        18,
        2.5,
        0.15,
        2,
        1.0,
    ),
    _C(
        "potimarron",
        "Potimarron",
        "potimarron",
        "cucurbitaceae",
        O,
        20,
        22,
        15,
        18,
        2.0,
        0.15,
        2,
        1.0,
    ),
    _C(
        "haricot_vert",
        "Haricot vert",
        "haricot_vert",
        "fabaceae",
        O,
        20,
        28,
        9,
        13,
        1.2,
        0.9,
        1,
        1.0,
    ),
    _C("fenouil", "Fenouil", "fenouil", "apiaceae", O, 24, 30, 10, 14, 2.0, 0.4, 1, 1.0),
    _C("persil", "Persil", "persil", "apiaceae", O, 12, 20, 10, 30, 1.5, 0.6, 1, 1.0),
    _C(
        "fraise_plein_champ",
        "Fraise plein champ (plantation d'été)",
        "fraise",
        "rosaceae",
        O,
        33,
        36,
        38,
        46,
        1.2,
        1.0,
        1,
        0.5,
    ),
    _C(
        "fraise_abri",
        "Fraise sous abri (plants frigo)",
        "fraise",
        "rosaceae",
        G,
        6,
        10,
        9,
        16,
        2.5,
        1.3,
        1,
        0.5,
    ),
    _C(
        "framboise",
        "Framboise remontante",
        "framboise",
        "rosaceae",
        V,
        1,
        1,
        25,
        40,
        0.8,
        0.6,
        1,
        1.0,
    ),
    _C("pomme", "Pomme (verger)", "pomme", "rosaceae", V, 1, 1, 35, 44, 2.5, 0.1, 1, 1.0),
    _C("poire", "Poire (verger)", "poire", "rosaceae", V, 1, 1, 33, 40, 2.0, 0.1, 1, 1.0),
    _C("prune", "Prune (verger)", "prune", "rosaceae", V, 1, 1, 30, 35, 1.5, 0.08, 1, 1.0),
)
BED_M2 = {O: 30.0, G: 30.0, V: 100.0}

FIELD_CROPS = (
    "carotte_conservation",
    "pdt_primeur",
    "pdt_conservation",
    "oignon",
    "echalote",
    "ail",
    "poireau_ete",
    "poireau_hiver",
    "chou_pomme",
    "chou_fleur",
    "celeri_rave",
    "panais",
    "betterave",
    "courge",
    "potimarron",
    "navet",
)
NANTAIS_CROPS = (
    "laitue_abri_printemps",
    "laitue_printemps",
    "laitue_ete",
    "laitue_automne",
    "laitue_abri",
    "mache",
    "mache_abri",
    "radis",
    "radis_abri",
    "epinard_printemps",
    "epinard_automne",
)


def harvest_profile(crop: CropSpec) -> np.ndarray:
    """Yield per m² in each harvest week: a hump over the harvest window summing to the yield."""
    n = crop.harvest_last - crop.harvest_first + 1
    x = (np.arange(n) + 0.5) / n
    w = 0.2 + x * (1 - x) * 4  # parabola with shoulders: picking starts and ends slowly
    return crop.yield_kg_m2 * w / w.sum()


def crop_harvest_by_week(crop: CropSpec) -> np.ndarray:
    """Share of one m²-equivalent harvest in each ISO week (52), planting spread on the window."""
    out = np.zeros(52)
    prof = harvest_profile(crop) / crop.yield_kg_m2
    weeks = crop.plant_weeks
    for pw in weeks:
        for k, y in enumerate(prof):
            out[(pw - 1 + crop.harvest_first + k) % 52] += y / len(weeks)
    return out


def crop_occupancy_by_week(crop: CropSpec) -> np.ndarray:
    """Share of the crop's area occupied in each ISO week (planting to last harvest)."""
    if crop.land == V:
        return np.ones(52)
    out = np.zeros(52)
    weeks = crop.plant_weeks
    for pw in weeks:
        for k in range(crop.harvest_last + 1):
            out[(pw - 1 + k) % 52] += 1.0 / len(weeks)
    return out


def season_profiles(products: pd.DataFrame) -> dict[str, np.ndarray]:
    """Demand seasonality (52 ISO weeks, peak 1) of every crop product: what can be harvested,
    extended over the storage period for products that keep."""
    shelf = dict(zip(products["product_id"], products["shelf_life_days"], strict=True))
    prof: dict[str, np.ndarray] = {}
    for crop in CROPS:
        prof.setdefault(crop.product, np.zeros(52))
        prof[crop.product] += crop.share * crop_harvest_by_week(crop)
    out = {}
    for pid, avail in prof.items():
        store_weeks = min(40, int(shelf[pid] / 7))
        if store_weeks >= 4:  # sold steadily out of store until the stock's shelf life ends
            avail = sum(np.roll(avail, d) for d in range(store_weeks + 1))
        avail = avail / avail.max()
        avail[avail < 0.06] = 0.0
        out[pid] = avail
    return out


# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------

EPI, BG, MKT, REST, SHOP = (
    "epicerie_solidaire",
    "buying_group",
    "market",
    "social_restaurant",
    "caisse_shop",
)
# name, kind, INSEE code, lat, lon, address, conventionné
POINTS_OF_SALE = (
    # Bellevue (Nantes side)
    (
        "Épicerie solidaire du Grand Bellevue",
        EPI,
        "44109",
        47.2130,
        -1.6040,
        "place Mendès-France",
        True,
    ),
    (
        "Marché de Bellevue (stand du pôle)",
        MKT,
        "44109",
        47.2125,
        -1.6031,
        "place Mendès-France",
        True,
    ),
    (
        "Cantine solidaire de Bellevue",
        REST,
        "44109",
        47.2116,
        -1.6007,
        "bd Winston Churchill",
        False,
    ),
    ("Groupement d'achat du Jamet", BG, "44109", 47.2098, -1.5985, "quartier du Jamet", True),
    (
        "Épicerie conventionnée Mendès",
        SHOP,
        "44109",
        47.2137,
        -1.6054,
        "galerie commerciale, place Mendès-France",
        True,
    ),
    # Saint-Herblain Est / Bellevue
    (
        "Épicerie solidaire Bellevue-Herblain",
        EPI,
        "44162",
        47.2160,
        -1.6100,
        "bd Salvador Allende",
        True,
    ),
    (
        "Groupement d'achat des Lauriers",
        BG,
        "44162",
        47.2176,
        -1.6126,
        "quartier Bellevue, Saint-Herblain",
        False,
    ),
    (
        "Restaurant social du Sillon",
        REST,
        "44162",
        47.2255,
        -1.6245,
        "quartier du Sillon de Bretagne",
        False,
    ),
    (
        "Supérette conventionnée Saint-Herblain Est",
        SHOP,
        "44162",
        47.2198,
        -1.6152,
        "Saint-Herblain Est",
        True,
    ),
    # Chantenay
    ("Épicerie solidaire de Chantenay", EPI, "44109", 47.2050, -1.5880, "place Jean Macé", True),
    (
        "Marché de Chantenay (stand du pôle)",
        MKT,
        "44109",
        47.2046,
        -1.5887,
        "place Jean Macé",
        True,
    ),
    (
        "Groupement d'achat Chantenay-Liberté",
        BG,
        "44109",
        47.2030,
        -1.5950,
        "bd de la Liberté",
        True,
    ),
    (
        "Épicerie conventionnée Sarradin",
        SHOP,
        "44109",
        47.2063,
        -1.5968,
        "place Émile Sarradin",
        True,
    ),
    (
        "Restaurant social du Bas-Chantenay",
        REST,
        "44109",
        47.2018,
        -1.5905,
        "bas de la butte, Bas-Chantenay",
        False,
    ),
    (
        "Groupement d'achat de la Contrie",
        BG,
        "44109",
        47.2185,
        -1.5935,
        "quartier de la Contrie",
        False,
    ),
    (
        "Épicerie solidaire des Dervallières",
        EPI,
        "44109",
        47.2210,
        -1.5970,
        "quartier des Dervallières",
        True,
    ),
    ("Épicerie conventionnée Zola", SHOP, "44109", 47.2150, -1.5860, "quartier Zola", True),
    # Sainte-Anne
    ("Épicerie solidaire Sainte-Anne", EPI, "44109", 47.2075, -1.5790, "butte Sainte-Anne", False),
    (
        "Groupement d'achat de l'Hermitage",
        BG,
        "44109",
        47.2062,
        -1.5770,
        "rue de l'Hermitage",
        True,
    ),
    (
        "Épicerie conventionnée Sainte-Anne",
        SHOP,
        "44109",
        47.2085,
        -1.5806,
        "butte Sainte-Anne",
        True,
    ),
    # Rezé, Bouguenais, Couëron, Indre and the south bank
    (
        "Marché de Pont-Rousseau (stand du pôle)",
        MKT,
        "44143",
        47.1930,
        -1.5490,
        "place Pierre Sémard",
        True,
    ),
    (
        "Épicerie solidaire de Rezé Château",
        EPI,
        "44143",
        47.1770,
        -1.5600,
        "quartier du Château",
        True,
    ),
    (
        "Groupement d'achat de la Houssais",
        BG,
        "44143",
        47.1820,
        -1.5510,
        "quartier de la Houssais",
        False,
    ),
    (
        "Épicerie conventionnée de Trentemoult",
        SHOP,
        "44143",
        47.1945,
        -1.5850,
        "Trentemoult",
        False,
    ),
    ("Épicerie solidaire de Bouguenais", EPI, "44020", 47.1780, -1.6230, "centre-bourg", False),
    ("Restaurant social des Couëts", REST, "44020", 47.1860, -1.5950, "Les Couëts", False),
    ("Épicerie solidaire de Couëron", EPI, "44047", 47.2130, -1.7270, "centre-ville", True),
    ("Marché de Couëron (stand du pôle)", MKT, "44047", 47.2140, -1.7249, "centre-ville", False),
    ("Groupement d'achat de Basse-Indre", BG, "44074", 47.2000, -1.6700, "Basse-Indre", False),
    (
        "Épicerie solidaire de Saint-Jean-de-Boiseau",
        EPI,
        "44166",
        47.1940,
        -1.7230,
        "centre-bourg",
        False,
    ),
    (
        "Épicerie conventionnée de La Montagne",
        SHOP,
        "44101",
        47.1890,
        -1.6840,
        "centre-bourg",
        True,
    ),
    # Pays de Retz
    (
        "Marché du Pellerin (stand du pôle)",
        MKT,
        "44120",
        47.1990,
        -1.7550,
        "bourg, près des quais",
        True,
    ),
    ("Épicerie solidaire du Pellerin", EPI, "44120", 47.1978, -1.7565, "bourg", False),
    ("Groupement d'achat de Vue", BG, "44220", 47.1990, -1.8800, "bourg", False),
    ("Groupement d'achat de Cheix-en-Retz", BG, "44039", 47.1830, -1.8130, "bourg", False),
    ("Restaurant social intercommunal de Rouans", REST, "44145", 47.1830, -1.8580, "bourg", False),
    ("Épicerie solidaire de Bouaye", EPI, "44018", 47.1440, -1.6900, "centre-bourg", False),
    ("Groupement d'achat de Brains", BG, "44024", 47.1690, -1.7230, "bourg", False),
    (
        "Marché de Port-Saint-Père (stand du pôle)",
        MKT,
        "44133",
        47.1330,
        -1.7490,
        "place du bourg",
        False,
    ),
    ("Épicerie solidaire de Sainte-Pazanne", EPI, "44186", 47.1030, -1.8110, "centre-bourg", False),
)
#: Extra anchors for points of sale when ``scale`` > 1 (district centres, then commune points).
EXTRA_POS_ANCHORS = (
    ("Malakoff", "44109", 47.2150, -1.5270, 300),
    ("Breil", "44109", 47.2330, -1.5780, 400),
    ("Nantes Nord", "44109", 47.2560, -1.5690, 500),
    ("Bottière", "44109", 47.2320, -1.5180, 400),
    ("Clos Toreau", "44109", 47.1960, -1.5330, 250),
    ("Port-Boyer", "44109", 47.2400, -1.5330, 300),
    ("Dervallières", "44109", 47.2215, -1.5990, 300),
    ("Pin Sec", "44109", 47.2370, -1.5140, 300),
    ("Ragon", "44143", 47.1780, -1.5470, 400),
    ("Plaisance", "44114", 47.2470, -1.5990, 400),
    *(
        (COMMUNES[c][0], c, COMMUNES[c][1], COMMUNES[c][2], 900)
        for c in (
            "44162",
            "44143",
            "44020",
            "44047",
            "44114",
            "44190",
            "44215",
            "44026",
            "44172",
            "44035",
            "44194",
            "44018",
            "44198",
            "44009",
            "44204",
            "44209",
            "44130",
            "44087",
            "44186",
            "44188",
            "44158",
        )
    ),
)

# INSEE code, profile, optional anchor (lat, lon) when the representative point is in marshes
FARMS = (
    ("44120", "maraicher", (47.1905, -1.7720)),
    ("44120", "field", (47.2000, -1.8050)),
    ("44220", "maraicher", None),
    ("44220", "arbo", (47.1870, -1.8900)),
    ("44145", "field", None),
    ("44145", "maraicher", (47.1700, -1.8400)),
    ("44039", "maraicher", None),
    ("44166", "maraicher", (47.1850, -1.7300)),
    ("44101", "maraicher", None),
    ("44024", "maraicher", None),
    ("44024", "mixte", (47.1600, -1.7300)),
    ("44133", "field", None),
    ("44186", "maraicher", None),
    ("44061", "arbo", (47.2300, -1.9350)),
    ("44164", "field", None),
    ("44018", "maraicher", None),
    ("44150", "maraicher", (47.1380, -1.6350)),
    ("44178", "mixte", None),
    ("44087", "field", (47.0150, -1.7900)),
    ("44047", "maraicher", None),
    ("44158", "maraicher", None),
    ("44217", "arbo", None),
    ("44194", "maraicher", None),
    ("44114", "maraicher", (47.2820, -1.6300)),
    ("44169", "nantais", None),
    ("44169", "nantais", (47.2350, -1.3900)),
    ("44029", "nantais", (47.2600, -1.3300)),
    ("44215", "nantais", None),
    ("44215", "arbo", (47.1450, -1.4600)),
    ("44071", "nantais", None),
)
EXTRA_FARM_COMMUNES = (
    "44120",
    "44220",
    "44145",
    "44039",
    "44166",
    "44024",
    "44133",
    "44186",
    "44061",
    "44164",
    "44018",
    "44150",
    "44178",
    "44087",
    "44158",
    "44217",
    "44194",
    "44114",
    "44169",
    "44029",
    "44215",
    "44071",
    "44171",
    "44005",
    "44188",
    "44041",
    "44223",
    "44102",
    "44002",
    "44037",
    "44070",
    "44084",
    "44066",
    "44201",
    "44045",
    "44014",
    "44130",
    "44209",
)
FARM_PROFILES = ("maraicher", "maraicher", "maraicher", "nantais", "field", "arbo", "mixte")
LIEUX = (
    "la Noë",
    "la Prée",
    "la Gagnerie",
    "la Touche",
    "la Barre",
    "la Hersonnière",
    "la Guerche",
    "la Grande Noue",
    "la Bréhaudière",
    "le Pâtis",
    "la Chaussée",
    "les Landes",
    "la Brosse",
    "la Pinsonnière",
    "le Bois Joli",
    "la Marionnière",
    "la Rivière",
    "l'Ouche",
    "la Basse Lande",
    "la Métairie",
    "le Haut Bois",
    "la Couronnerie",
    "les Trois Chênes",
    "la Fontaine",
    "la Croix Rouge",
    "le Moulin",
    "la Sablière",
    "les Genêts",
    "la Fosse",
    "la Jaunaie",
    "le Clos Neuf",
    "la Févrie",
    "la Grande Prairie",
    "les Ajoncs",
    "la Vallée",
    "le Grand Pré",
)
FARM_NAME_PATTERNS = {
    "maraicher": (
        "Les Jardins {de}",
        "Le Potager {de}",
        "Ferme maraîchère {de}",
        "EARL {de}",
        "GAEC {de}",
    ),
    "nantais": ("EARL maraîchère {de}", "GAEC {de}", "Les Serres {de}"),
    "field": ("GAEC {de}", "Ferme {de}", "EARL des Champs {de}"),
    "arbo": ("Les Vergers {de}", "Vergers et Fruits {de}"),
    "mixte": ("Ferme {de}", "Le Verger-Potager {de}"),
}


def _de(lieu: str) -> str:
    """French 'de' + place name: de la Noë, du Moulin, des Landes, de l'Ouche."""
    if lieu.lower().startswith("le "):
        return "du " + lieu[3:]
    if lieu.lower().startswith("les "):
        return "des " + lieu[4:]
    if lieu[0].lower() in "aeiouyéèâîô":
        return "d'" + lieu
    return "de " + lieu


POS_NOTES = (
    "sonner à l'interphone",
    "livrer par l'entrée de service, à l'arrière",
    "quai de déchargement côté parking",
    "rue étroite : privilégier l'utilitaire",
    "chambre froide au sous-sol, monte-charge",
    "ne pas livrer pendant la distribution",
    "se garer sur la place, côté église",
    "clé du local chez la gardienne",
    "appeler 10 min avant l'arrivée",
    "livraison avant l'installation des stands",
)
FARM_NOTES = (
    "chemin de terre : attention par temps de pluie",
    "chambre froide à gauche du hangar",
    "palettes prêtes sous l'auvent",
    "portail : code donné par téléphone",
    "appeler en arrivant, les associés sont souvent aux champs",
)
KIND_LABEL = {
    EPI: "Épicerie solidaire",
    BG: "Groupement d'achat",
    MKT: "Marché",
    REST: "Restaurant social",
    SHOP: "Épicerie conventionnée",
}
WD = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _phone(rng: np.random.Generator, mobile: bool = False) -> str:
    """A number in the ARCEP ranges reserved for fiction (02 61 91 .., 06 39 98 ..)."""
    head = "06 39 98" if mobile else "02 61 91"
    return f"{head} {rng.integers(0, 100):02d} {rng.integers(0, 100):02d}"


Slot = tuple[int, str, str]  # weekday index, open, close


def _hours(rng: np.random.Generator, kind: str, market_days: list[int]) -> list[Slot]:
    """Opening hours (weekday index, open, close) of a site of ``kind``."""
    rows: list[tuple[int, str, str]] = []
    if kind == EPI:
        v = rng.integers(3)
        if v == 0:
            for d in range(1, 6):
                rows += [(d, "09:30", "12:30"), (d, "14:00", "18:30")]
        elif v == 1:
            for d in (0, 1, 3, 4):
                rows.append((d, "14:00", "18:30"))
            rows += [(2, "09:30", "12:30"), (5, "09:30", "12:30")]
        else:
            for d in range(1, 5):
                rows += [(d, "10:00", "12:30"), (d, "14:00", "18:00")]
            rows.append((5, "10:00", "12:30"))
    elif kind == BG:
        d1, d2 = sorted(rng.choice(5, size=2, replace=False).tolist())
        rows += [(d1, "09:00", "12:00"), (d1, "16:30", "19:00"), (d2, "17:00", "19:30")]
        if rng.random() < 0.5:
            rows.append((5, "10:00", "12:30"))
    elif kind == MKT:
        for d in market_days:
            rows.append((d, "07:30", "13:00"))
    elif kind == REST:
        for d in range(5):
            rows.append((d, "08:00", "14:00"))
    elif kind == SHOP:
        if rng.random() < 0.5:
            rows.append((0, "14:00", "19:00"))
            for d in range(1, 6):
                rows += [(d, "09:00", "12:30"), (d, "14:00", "19:00")]
        else:
            for d in range(0, 6):
                rows.append((d, "08:30", "19:30"))
            if rng.random() < 0.5:
                rows.append((6, "09:00", "12:30"))
    return rows


def _farm_hours(rng: np.random.Generator) -> list[tuple[int, str, str]]:
    v = rng.integers(4)
    if v == 0:
        return [(d, "07:00", "12:00") for d in range(5)]
    if v == 1:
        return [r for d in (0, 2, 4) for r in ((d, "08:00", "12:00"), (d, "14:00", "17:00"))]
    if v == 2:
        return [(d, "07:30", "11:30") for d in range(5)] + [(5, "08:00", "10:00")]
    return [(d, "06:30", "10:30") for d in (1, 2, 3, 4)]


def _spread_days(open_days: list[int], k: int, turn: int = 0) -> list[int]:
    """``k`` delivery weekdays among the open days, never two consecutive ones when possible.

    ``turn`` (the site's number) rotates through the possible patterns so that sites are not
    all delivered on their first open day (the hub's Monday would overflow).
    """
    if k >= len(open_days):
        return list(open_days)
    patterns = [
        list(c)
        for c in itertools.combinations(open_days, k)
        if all(b - a > 1 for a, b in itertools.pairwise(c))
    ]
    if not patterns:
        idx = np.round(np.linspace(0, len(open_days) - 1, k)).astype(int)
        return sorted({open_days[i] for i in idx})
    return patterns[turn % len(patterns)]


def build_sites(
    rng: np.random.Generator, geo: Geo, scale: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Sites and opening hours; also per-site metadata used by the demand model."""
    sites: list[dict] = []
    hours: list[tuple[str, int, str, str]] = []
    meta: dict[str, dict] = {}

    def add(site: dict, rows: list[tuple[int, str, str]], **m) -> None:
        sites.append(site)
        hours.extend((site["site_id"], d, o, c) for d, o, c in rows)
        meta[site["site_id"]] = {
            "kind": site["kind"],
            "open_days": sorted({d for d, _, _ in rows}),
            "slots": rows,
            **m,
        }

    where = geo.where
    hub, depot = where.hub_site, where.depot_site
    add(
        {
            "site_id": hub["site_id"],
            "name": hub["name"],
            "kind": "hub",
            "commune": hub["commune"],
            "address": hub["address"],
            "lat": where.hub[0],
            "lon": where.hub[1],
            "service_min": 30.0,
            "conventionne": False,
            "deliveries_per_week": 0,
            "delivery_days": "",
            "contact": _phone(rng),
            "notes": hub["notes"],
        },
        [(d, "05:00", "20:00") for d in range(5)] + [(5, "05:00", "12:00")],
    )
    lat, lon = geo.place(rng, depot["code"], *where.depot_point, 150)
    add(
        {
            "site_id": depot["site_id"],
            "name": depot["name"],
            "kind": "depot",
            "commune": where.communes[depot["code"]][0],
            "address": depot["address"],
            "lat": lat,
            "lon": lon,
            "service_min": 15.0,
            "conventionne": False,
            "deliveries_per_week": 0,
            "delivery_days": "",
            "contact": _phone(rng),
            "notes": depot["notes"],
        },
        [(d, "06:30", "17:30") for d in range(5)],
    )

    # points of sale: the hand-picked list (a kind-balanced subset when scale < 1), then extras
    n_pos = max(5, round(40 * scale))
    order = rng.permutation(len(where.points_of_sale))
    chosen = sorted(order[: min(n_pos, len(where.points_of_sale))].tolist())
    specs = [where.points_of_sale[i] for i in chosen]
    extra_rng_kinds = (EPI, EPI, EPI, BG, BG, BG, MKT, REST, SHOP, SHOP)
    used_names = {s[0] for s in specs}
    i = 0
    while len(specs) < n_pos:
        label, code, alat, alon, radius = where.pos_anchors[i % len(where.pos_anchors)]
        kind = extra_rng_kinds[rng.integers(len(extra_rng_kinds))]
        base = f"{KIND_LABEL[kind]} {_de(label)}"
        name, k = base, 2
        while name in used_names:
            name, k = f"{base} {k}", k + 1
        used_names.add(name)
        la, lo = geo.place(rng, code, alat, alon, radius, water_m=300)
        conv = kind == SHOP or rng.random() < 0.45
        address = f"quartier {label}" if code == where.district_code else "centre"
        specs.append((name, kind, code, la, lo, address, conv, "anchor"))
        i += 1
    for j, spec in enumerate(specs, start=1):
        name, kind, code, la, lo, address, conv = spec[:7]
        if len(spec) == 7:  # hand-picked: ≤150 m jitter inside the commune
            la, lo = geo.place(rng, code, la, lo, 150)
        sid = f"pos_{j:03d}"
        market_days: list[int] = []
        if kind == MKT:
            market_days = sorted(
                rng.choice(
                    [1, 2, 3, 4, 5, 6], size=1 + (rng.random() < 0.3), replace=False
                ).tolist()
            )
        rows = _hours(rng, kind, market_days)
        open_days = sorted({d for d, _, _ in rows})
        if kind == MKT:
            dpw, fixed = len(market_days), market_days
        elif kind == REST:
            dpw = int(rng.integers(2, 4))
            fixed = [0, 2, 4] if dpw == 3 and rng.random() < 0.6 else []
        elif kind == SHOP:
            dpw = int(rng.integers(2, 4))
            fixed = _spread_days(open_days, dpw, j) if rng.random() < 0.3 else []
        elif kind == EPI:
            dpw = int(rng.integers(1, 3))
            fixed = _spread_days(open_days, dpw, j) if rng.random() < 0.5 else []
        else:  # buying group: delivered on its morning reception
            dpw = 1
            fixed = [open_days[0]] if rng.random() < 0.6 else []
        days = fixed or _spread_days(open_days, dpw, j)
        service = {EPI: (10, 20), BG: (8, 15), MKT: (15, 25), REST: (12, 20), SHOP: (10, 20)}[kind]
        add(
            {
                "site_id": sid,
                "name": name,
                "kind": kind,
                "commune": where.communes[code][0],
                "address": address,
                "lat": la,
                "lon": lo,
                "service_min": float(rng.integers(service[0], service[1] + 1)),
                "conventionne": bool(conv),
                "deliveries_per_week": dpw,
                "delivery_days": ",".join(WD[d] for d in fixed),
                "contact": _phone(rng) if rng.random() < 0.7 else "",
                "notes": POS_NOTES[rng.integers(len(POS_NOTES))] if rng.random() < 0.45 else "",
            },
            rows,
            order_days=days,
        )

    # farms: the 30 hand-placed ones (profile-balanced subset when scale < 1), then extras
    n_farms = max(len(set(FARM_PROFILES)), round(30 * scale))
    by_profile: dict[str, list[int]] = {}
    for idx in rng.permutation(len(where.farms)).tolist():
        by_profile.setdefault(where.farms[idx][1], []).append(idx)
    round_robin: list[int] = []
    while any(by_profile.values()):
        for prof in ("maraicher", "nantais", "field", "arbo", "mixte"):
            if by_profile.get(prof):
                round_robin.append(by_profile[prof].pop(0))
    farm_specs = [where.farms[i] for i in sorted(round_robin[: min(n_farms, len(where.farms))])]
    k = 0
    while len(farm_specs) < n_farms:
        code = where.farm_communes[k % len(where.farm_communes)]
        farm_specs.append((code, FARM_PROFILES[rng.integers(len(FARM_PROFILES))], None))
        k += 1
    lieux = [LIEUX[i] for i in rng.permutation(len(LIEUX))]
    names: set[str] = set()
    for j, (code, profile, anchor) in enumerate(farm_specs, start=1):
        cname, clat, clon, area = where.communes[code]
        alat, alon = anchor or (clat, clon)
        radius = min(2500.0, 400 * math.sqrt(area))
        la, lo = geo.place(rng, code, alat, alon, radius, water_m=1500)
        lieu = lieux[(j - 1) % len(lieux)]
        patterns = FARM_NAME_PATTERNS[profile]
        name = patterns[rng.integers(len(patterns))].format(de=_de(lieu))
        if name in names:
            name = f"{name} ({cname})"
        n = 2
        base = name
        while name in names:
            name, n = f"{base} {n}", n + 1
        names.add(name)
        sid = f"farm_{j:03d}"
        add(
            {
                "site_id": sid,
                "name": name,
                "kind": "farm",
                "commune": cname,
                "address": f"{lieu[0].upper()}{lieu[1:]}, {cname}",
                "lat": la,
                "lon": lo,
                "service_min": float(rng.integers(15, 31)),
                "conventionne": False,
                "deliveries_per_week": 0,
                "delivery_days": "",
                "contact": _phone(rng, mobile=True),
                "notes": FARM_NOTES[rng.integers(len(FARM_NOTES))] if rng.random() < 0.4 else "",
            },
            _farm_hours(rng),
            profile=profile,
        )

    sites_df = pd.DataFrame(sites)
    hours_df = pd.DataFrame(hours, columns=["site_id", "wd", "open", "close"])
    hours_df = hours_df.sort_values(["site_id", "wd", "open"]).reset_index(drop=True)
    hours_df.insert(1, "weekday", [WD[d] for d in hours_df["wd"]])
    return sites_df, hours_df.drop(columns="wd"), meta


# --------------------------------------------------------------------------------------------
# Producers
# --------------------------------------------------------------------------------------------


def build_producers(
    rng: np.random.Generator, sites: pd.DataFrame, meta: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Producers' land and crops (labour and revenue floors are set after demand calibration)."""
    farms = sites.loc[sites["kind"] == "farm"]
    crop_by_id = {c.crop_id: c for c in CROPS}
    rows, pcs = [], []
    for n, (sid, name) in enumerate(zip(farms["site_id"], farms["name"], strict=True), start=1):
        prof = meta[sid]["profile"]
        u = rng.uniform
        if prof == "maraicher":
            of, gh, orch = u(2500, 7000), u(300, 1500), 0.0
        elif prof == "nantais":
            of, gh, orch = u(5000, 12000), u(1000, 2500), 0.0
        elif prof == "field":
            of, gh, orch = u(8000, 20000), (u(200, 500) if rng.random() < 0.4 else 0.0), 0.0
        elif prof == "arbo":
            gh = u(300, 600) if rng.random() < 0.5 else 0.0
            of, orch = u(2000, 3500), u(5000, 12000)
        else:
            of, gh, orch = u(3000, 7000), u(300, 900), u(2000, 4500)
        of, gh, orch = round(of / 50) * 50.0, round(gh / 10) * 10.0, round(orch / 100) * 100.0
        organic = bool(rng.random() < (0.45 if prof in ("nantais", "field") else 0.8))
        pid = f"prod_{n:03d}"
        rows.append(
            {
                "producer_id": pid,
                "site_id": sid,
                "name": name,
                "open_field_m2": of,
                "greenhouse_m2": gh,
                "orchard_m2": orch,
                "organic": organic,
                "contact": sites.set_index("site_id").at[sid, "contact"],
                "profile": prof,
            }
        )

        def ok(cid: str, of=of, gh=gh, orch=orch) -> bool:
            land = crop_by_id[cid].land
            return {O: of, G: gh, V: orch}[land] > 0

        veg = [c.crop_id for c in CROPS if c.land != V and ok(c.crop_id)]
        orchard = [c.crop_id for c in CROPS if c.land == V and ok(c.crop_id)]

        def pick(pool: list[str], k: int) -> list[str]:
            k = max(0, min(k, len(pool)))
            return [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False))]

        if prof == "maraicher":
            chosen = pick(veg, int(rng.integers(14, 26)))
        elif prof == "nantais":
            core = [c for c in NANTAIS_CROPS if ok(c)]
            others = [c for c in veg if c not in core]
            chosen = core + pick(others, int(rng.integers(3, 9)))
        elif prof == "field":
            field = [c for c in FIELD_CROPS if ok(c)]
            others = [c for c in veg if c not in field]
            chosen = pick(field, int(rng.integers(8, 15))) + pick(others, int(rng.integers(0, 3)))
        elif prof == "arbo":
            extra = [c for c in ("fraise_plein_champ", "fraise_abri") if ok(c)]
            others = [
                c
                for c in (
                    "courge",
                    "potimarron",
                    "pdt_conservation",
                    "oignon",
                    "ail",
                    "echalote",
                    "chou_pomme",
                    "poireau_hiver",
                )
                if ok(c)
            ]
            chosen = (
                pick(orchard, int(rng.integers(3, 5)))
                + extra
                + pick(others, int(rng.integers(3, 6)))
            )
        else:
            chosen = pick(orchard, int(rng.integers(2, 4))) + pick(veg, int(rng.integers(10, 17)))
        chosen = sorted(set(chosen))
        if len(chosen) < 8:
            rest = [c for c in veg + orchard if c not in chosen]
            chosen = sorted(set(chosen) | set(pick(rest, 8 - len(chosen))))
        pcs += [(pid, c) for c in chosen[:25]]

    prod = pd.DataFrame(rows)
    pc = pd.DataFrame(pcs, columns=["producer_id", "crop_id"])
    # every crop has at least one grower: give orphans to the eligible farm with fewest crops
    land_col = {O: "open_field_m2", G: "greenhouse_m2", V: "orchard_m2"}
    for crop in CROPS:
        if (pc["crop_id"] == crop.crop_id).any():
            continue
        counts = pc.groupby("producer_id").size()
        elig = prod.loc[prod[land_col[crop.land]] > 0, "producer_id"]
        elig = [p for p in elig if counts.get(p, 0) < 25]
        if elig:
            best = min(elig, key=lambda p: (counts.get(p, 0), p))
            pc = pd.concat([pc, pd.DataFrame([(best, crop.crop_id)], columns=pc.columns)])
    pc = pc.drop_duplicates().sort_values(["producer_id", "crop_id"]).reset_index(drop=True)
    return prod, pc


# --------------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------------

INCLUSION = {  # probability that a point of sale of this kind stocks a product of this category
    EPI: {
        "vegetable": 0.85,
        "fruit": 0.85,
        "legume": 0.8,
        "dairy": 0.8,
        "egg": 0.95,
        "meat": 0.5,
        "bakery": 0.5,
        "grocery": 0.7,
    },
    BG: {
        "vegetable": 0.7,
        "fruit": 0.75,
        "legume": 0.9,
        "dairy": 0.45,
        "egg": 0.9,
        "meat": 0.25,
        "bakery": 0.3,
        "grocery": 0.9,
    },
    MKT: {
        "vegetable": 0.95,
        "fruit": 0.95,
        "legume": 0.3,
        "dairy": 0.5,
        "egg": 0.8,
        "meat": 0.3,
        "bakery": 0.5,
        "grocery": 0.3,
    },
    REST: {
        "vegetable": 0.9,
        "fruit": 0.7,
        "legume": 0.8,
        "dairy": 0.8,
        "egg": 0.9,
        "meat": 0.85,
        "bakery": 0.9,
        "grocery": 0.5,
    },
    SHOP: {
        "vegetable": 0.9,
        "fruit": 0.9,
        "legume": 0.7,
        "dairy": 0.9,
        "egg": 0.95,
        "meat": 0.7,
        "bakery": 0.75,
        "grocery": 0.8,
    },
}
SIZE = {EPI: 1.0, BG: 0.45, MKT: 1.6, REST: 0.9, SHOP: 1.3}
STAPLES = ("pomme_de_terre", "carotte", "oignon", "pomme", "poireau", "tomate")
HOLIDAYS = {
    date.fromisoformat(d)
    for d in (
        "2024-01-01",
        "2024-04-01",
        "2024-05-01",
        "2024-05-08",
        "2024-05-09",
        "2024-05-20",
        "2024-07-14",
        "2024-08-15",
        "2024-11-01",
        "2024-11-11",
        "2024-12-25",
        "2025-01-01",
        "2025-04-21",
        "2025-05-01",
        "2025-05-08",
        "2025-05-29",
        "2025-06-09",
        "2025-07-14",
        "2025-08-15",
        "2025-11-01",
        "2025-11-11",
        "2025-12-25",
        "2026-01-01",
        "2026-04-06",
        "2026-05-01",
        "2026-05-08",
        "2026-05-14",
        "2026-05-25",
        "2026-07-14",
        "2026-08-15",
        "2026-11-01",
        "2026-11-11",
        "2026-12-25",
    )
}


def _holiday_factor(rng: np.random.Generator, kind: str, iso_weeks: np.ndarray) -> np.ndarray:
    """Weekly multiplier: summer closures or dips, Christmas week."""
    f = np.ones(len(iso_weeks))
    years = np.arange(len(iso_weeks)) // 52
    for y in np.unique(years):
        m = years == y
        wk = iso_weeks
        if kind == EPI:
            if rng.random() < 0.7:
                w0 = int(rng.integers(32, 34))
                f[m & ((wk == w0) | (wk == w0 + 1))] = 0.0
            else:
                f[m & (wk >= 31) & (wk <= 34)] *= 0.75
            f[m & (wk == 52)] *= 0.5
        elif kind == BG:
            if rng.random() < 0.8:
                f[m & (wk >= 31) & (wk <= 34)] = 0.0
            f[m & (wk == 52)] = 0.0
        elif kind == MKT:
            f[m & (wk >= 31) & (wk <= 34)] *= 0.8
            f[m & (wk == 51)] *= 1.15
        elif kind == REST:
            f[m & (wk >= 31) & (wk <= 34)] *= 0.5
            f[m & (wk == 52)] = 0.0
        elif kind == SHOP:
            f[m & (wk >= 32) & (wk <= 34)] *= 0.85
            f[m & (wk == 52)] *= 0.9
    f[iso_weeks == 1] *= 0.8
    return f


def demand_means(
    rng: np.random.Generator, sites: pd.DataFrame, products: pd.DataFrame, n_weeks: int
) -> tuple[np.ndarray, list[str]]:
    """Expected weekly kg per (point of sale, product, week), before the land calibration."""
    pos = sites.loc[sites["kind"].isin(list(SIZE))].reset_index(drop=True)
    season = season_profiles(products)
    iso = (np.arange(n_weeks) % 52) + 1
    n_p = len(products)
    prof = np.ones((n_p, n_weeks))
    for j, pid in enumerate(products["product_id"]):
        if pid in season:
            prof[j] = season[pid][iso - 1]
        elif products.at[j, "category"] == "dairy":  # a little less in summer
            prof[j] = 1 - 0.08 * np.exp(-(((iso - 31) / 4.0) ** 2))
    base = products["base_kg_week"].to_numpy(float)
    cats = products["category"].to_numpy()
    means = np.zeros((len(pos), n_p, n_weeks))
    late = set(rng.choice(len(pos), size=max(1, round(0.08 * len(pos))), replace=False).tolist())
    for s, kind in enumerate(pos["kind"]):
        size = SIZE[kind] * float(np.clip(rng.lognormal(0.0, 0.3), 0.5, 2.0))
        incl = np.array([rng.random() < INCLUSION[kind][c] for c in cats])
        incl |= products["product_id"].isin(STAPLES).to_numpy()
        if kind == REST:  # no jars of honey or jam in a canteen
            incl &= ~products["unit"].eq("jar").to_numpy() | cats.__eq__("dairy")
        taste = np.clip(rng.lognormal(0.0, 0.25, size=n_p), 0.6, 1.6)  # shop-specific mix
        growth = rng.normal(0.05, 0.03)
        trend = 1.0 + growth * np.arange(n_weeks) / 52.0
        hol = _holiday_factor(rng, kind, iso)
        start = np.ones(n_weeks)
        if s in late:  # joined the partnership during the history, ramp-up over 8 weeks
            k0 = int(rng.integers(16, max(17, n_weeks - 26)))
            start = np.clip((np.arange(n_weeks) - k0 + 1) / 8.0, 0.0, 1.0)
        means[s] = (size * incl * taste * base)[:, None] * prof * (trend * hol * start)[None, :]
    return means, pos["site_id"].tolist()


def calibrate(means: np.ndarray, products: pd.DataFrame, producers: pd.DataFrame) -> dict:
    """Scale the demand for crop products so that growing the last year's demand needs about
    ``LAND_TARGET`` of each land type at its busiest week; return the planting areas."""
    pid_index = {p: j for j, p in enumerate(products["product_id"])}
    land_total = {
        O: producers["open_field_m2"].sum(),
        G: producers["greenhouse_m2"].sum(),
        V: producers["orchard_m2"].sum(),
    }
    # dominant land type of each crop product
    by_prod: dict[str, dict[str, float]] = {}
    for c in CROPS:
        by_prod.setdefault(c.product, {}).setdefault(c.land, 0.0)
        by_prod[c.product][c.land] += c.share
    dominant = {p: max(d, key=d.get) for p, d in by_prod.items()}
    last_year = means[:, :, -52:].sum(axis=(0, 2))
    factor = {O: 1.0, G: 1.0, V: 1.0}
    for _ in range(12):
        occ = {t: np.zeros(52) for t in factor}
        for c in CROPS:
            q = last_year[pid_index[c.product]] * factor[dominant[c.product]] * c.share
            occ[c.land] += q / c.yield_kg_m2 * crop_occupancy_by_week(c)
        for t in factor:
            if land_total[t] > 0 and occ[t].max() > 0:
                factor[t] *= (LAND_TARGET * land_total[t] / occ[t].max()) ** 0.9
        # keep the basket's proportions sensible: tunnels and orchards are not filled at any
        # price (no shop sells 300 kg of peppers a week); open field sets the level
        for t in (G, V):
            factor[t] = min(factor[t], 1.5 * factor[O])
    area, labour = {}, np.zeros(52)
    for c in CROPS:
        q = last_year[pid_index[c.product]] * factor[dominant[c.product]] * c.share
        area[c.crop_id] = q / c.yield_kg_m2
        occ = crop_occupancy_by_week(c)
        labour += area[c.crop_id] * c.labour_h_m2 * occ / occ.sum()
    scale = np.ones(len(products))
    for p, t in dominant.items():
        scale[pid_index[p]] = factor[t]
    value = float(
        (last_year * scale * products["fair_price_eur_per_kg"].to_numpy())[
            products["product_id"].isin(list(dominant)).to_numpy()
        ].sum()
    )
    return {
        "product_scale": scale,
        "factor": factor,
        "area": area,
        "labour": labour,
        "crop_value": value,
        "land_total": land_total,
    }


def finish_producers(rng: np.random.Generator, prod: pd.DataFrame, cal: dict) -> pd.DataFrame:
    """Labour (enough for the calibrated plan with some slack) and fair revenue floors."""
    need = cal["labour"].max() * 1.2  # weekly hours at the busiest week, plus slack
    mech = np.where(prod["profile"] == "field", 0.6, 1.0)  # field-veg farms are mechanised
    weight = mech * prod["open_field_m2"] + 3.0 * prod["greenhouse_m2"] + 0.3 * prod["orchard_m2"]
    hours = need * weight / weight.sum() * rng.uniform(0.9, 1.15, size=len(prod))
    prod["labour_h_per_week"] = (np.clip(hours, 35, 150) * 2).round() / 2
    # value of the land's output at fair prices, per m² and land type (from the calibration)
    land = cal["land_total"]
    tot = sum(land[t] * {O: 1.0, G: 3.5, V: 0.8}[t] for t in land)
    per_unit = cal["crop_value"] / LAND_TARGET / tot
    potential = per_unit * (
        prod["open_field_m2"] + 3.5 * prod["greenhouse_m2"] + 0.8 * prod["orchard_m2"]
    )
    share = rng.uniform(0.20, 0.35, size=len(prod))
    prod["min_revenue_eur"] = (potential * share / 100).round() * 100
    return prod


# --------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------


def build_orders(
    rng: np.random.Generator,
    means: np.ndarray,
    pos_ids: list[str],
    meta: dict,
    products: pd.DataFrame,
    n_weeks: int,
    start: date,
) -> pd.DataFrame:
    """Weekly orders: gamma noise around the means, split over the delivery days."""
    kpu = products["kg_per_unit"].to_numpy(float)
    units = products["unit"].to_numpy()
    is_kg = units == "kg"
    perishable = products["shelf_life_days"].to_numpy() <= 10
    cats = products["category"].to_numpy()
    shape = np.where(np.isin(cats, ["vegetable", "fruit"]), 8.0, 12.0)  # CV 0.35 / 0.29
    retail = products["retail_price_eur_per_unit"].to_numpy(float)
    n_days = n_weeks * 7
    day_str = np.array([(start + timedelta(days=d)).isoformat() for d in range(n_days)])
    year_of_day = np.array([(start + timedelta(days=d)).year - start.year for d in range(n_days)])
    last_year = (start + timedelta(days=n_days - 1)).year - start.year
    price = np.round(
        retail[:, None] * (1 + INFLATION) ** (np.arange(last_year + 1)[None, :] - last_year), 2
    )
    holiday_idx = {(h - start).days for h in HOLIDAYS}
    out_d, out_s, out_p, out_q = [], [], [], []
    for s, sid in enumerate(pos_ids):
        m = meta[sid]
        days = m["order_days"]
        open_days = m["open_days"]
        # delivery dates per week, moved off public holidays to the next open day of the week
        dates = np.full((n_weeks, len(days)), -1)
        for k in range(n_weeks):
            for j, d in enumerate(days):
                day = k * 7 + d
                if day in holiday_idx:
                    alt = [k * 7 + o for o in open_days if o != d and k * 7 + o not in holiday_idx]
                    later = [a for a in alt if a > day]
                    day = (later or alt or [-1])[0]
                dates[k, j] = day
        mu = means[s]
        q = rng.gamma(shape[:, None], np.maximum(mu, 1e-12) / shape[:, None])
        q = np.minimum(q, 2.0 * mu)  # a shop never orders wildly more than usual
        q[mu <= 0] = 0.0
        q[rng.random(q.shape) < 0.06] = 0.0  # some weeks a shop skips a product
        nd = len(days)
        weights = np.full(nd, 1.0 / nd)
        for j in range(nd):
            part = q * (weights[j] if nd > 1 else 1.0)
            if nd > 1:
                part = np.where(perishable[:, None], part, q if j == 0 else 0.0)
            qty = part / kpu[:, None]
            # kg: half-kilo steps, whole kilos from 10 kg, 5 kg crates from 50 kg; else whole units
            qty = np.where(
                is_kg[:, None],
                np.where(
                    qty < 10,
                    np.round(qty * 2) / 2,
                    np.where(qty < 50, np.round(qty), np.round(qty / 5) * 5),
                ),
                np.round(qty),
            )
            pi, ki = np.nonzero(qty > 0)
            day = dates[ki, j]
            keep = day >= 0
            out_d.append(day[keep])
            out_s.append(np.full(keep.sum(), s))
            out_p.append(pi[keep])
            out_q.append(qty[pi[keep], ki[keep]])
    d = np.concatenate(out_d)
    s = np.concatenate(out_s)
    p = np.concatenate(out_p)
    qv = np.concatenate(out_q)
    df = pd.DataFrame({"d": d, "s": s, "p": p, "quantity": qv})
    df = df.groupby(["d", "s", "p"], as_index=False, sort=True)["quantity"].sum()
    df["quantity"] = df["quantity"].round(1)
    pid = products["product_id"].to_numpy()
    out = pd.DataFrame(
        {
            "date": day_str[df["d"].to_numpy()],
            "site_id": np.array(pos_ids)[df["s"].to_numpy()],
            "product_id": pid[df["p"].to_numpy()],
            "quantity": df["quantity"].to_numpy(),
            "unit": units[df["p"].to_numpy()],
            "unit_price_eur": price[df["p"].to_numpy(), year_of_day[df["d"].to_numpy()]],
        }
    )
    out = out.sort_values(["date", "site_id", "product_id"], kind="mergesort")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The hub's real weeks: confirmed farm supply, hub stock, storage capacity
# --------------------------------------------------------------------------------------------

#: Weeks (counted back from the last week of orders) that get confirmed supply.
SUPPLY_WEEKS = 7
#: The week with a real shortage (counted back from the last week of orders: 2025-12-08).
SHORTAGE_WEEK_BACK = 2
SHORT_PRODUCTS = 6


def build_week_supply(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    products: pd.DataFrame,
    crops: pd.DataFrame,
    producers: pd.DataFrame,
    producer_crops: pd.DataFrame,
    hub_id: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Availability (farms' confirmed kilos and the hub's stock) for the last weeks of orders,
    with one shortage week, and the hub's storage capacity per storage class.

    Normal weeks: the farms able to grow a product confirm 2-25 % more than the shops ordered,
    split over up to four of them; long-keeping ambient products also have some hub stock.
    The shortage week: six products sold by the kilo get 50-68 % of the orders and no stock.
    Storage: the hub holds a busy week's goods of each class with a fifth to spare; the farms
    have a cellar and a cold room sized by their land (1.2 / 0.5 kg per m² of field, 2 / 1 per
    m² of orchard).
    """
    prod = products.set_index("product_id")
    dates = pd.to_datetime(orders["date"])
    kg = orders["quantity"].to_numpy(float) * np.where(
        orders["unit"].to_numpy() == "kg",
        1.0,
        orders["product_id"].map(prod["kg_per_unit"]).to_numpy(float),
    )
    frame = pd.DataFrame(
        {
            "week_start": dates - pd.to_timedelta(dates.dt.weekday, unit="D"),
            "product_id": orders["product_id"].to_numpy(),
            "kg": kg,
        }
    )
    weekly = frame.groupby(["week_start", "product_id"], sort=True)["kg"].sum()
    mondays = sorted(frame["week_start"].unique())[-SUPPLY_WEEKS:]
    shortage = mondays[-1 - SHORTAGE_WEEK_BACK]
    grown = crops[["crop_id", "product_id"]].merge(producer_crops, on="crop_id")
    grown = grown.merge(producers[["producer_id", "site_id"]], on="producer_id")
    growers = {p: sorted(set(g["site_id"])) for p, g in grown.groupby("product_id", sort=True)}
    rows = []
    for monday in mondays:
        ordered = weekly.loc[monday]
        candidates = [
            p
            for p in sorted(growers)
            if p in ordered.index and ordered[p] >= 100 and prod.at[p, "unit"] == "kg"
        ]
        short = set()
        if monday == shortage:
            num = min(SHORT_PRODUCTS, len(candidates))
            pick = rng.choice(len(candidates), size=num, replace=False)
            short = {candidates[i] for i in pick}
        for p in sorted(growers):
            if p not in ordered.index:
                continue
            factor = rng.uniform(0.50, 0.68) if p in short else rng.uniform(1.02, 1.25)
            total = float(ordered[p]) * factor
            stock = 0.0
            keeps = prod.at[p, "storage_class"] == "ambient" and prod.at[p, "shelf_life_days"] >= 60
            if keeps and p not in short:
                stock = round(total * rng.uniform(0.05, 0.15))
                rows.append((monday, hub_id, p, float(stock)))
            farms = growers[p]
            chosen = sorted(rng.choice(len(farms), size=min(4, len(farms)), replace=False))
            share = rng.dirichlet(np.ones(len(chosen)))
            for i, w in zip(chosen, share, strict=True):
                rows.append((monday, farms[i], p, round((total - stock) * float(w), 1)))
    availability = pd.DataFrame(rows, columns=["week_start", "site_id", "product_id", "kg"])
    availability = availability.loc[availability["kg"] > 0]
    availability = availability.sort_values(
        ["week_start", "site_id", "product_id"], kind="mergesort"
    )
    availability["week_start"] = pd.to_datetime(availability["week_start"]).dt.strftime("%Y-%m-%d")

    # the hub holds a busy week's goods of each class at once, with a fifth to spare
    frame["storage_class"] = frame["product_id"].map(prod["storage_class"])
    by_class = frame.loc[frame["week_start"].isin(mondays)]
    peak = by_class.groupby(["week_start", "storage_class"])["kg"].sum().groupby(level=1).max()
    rows = [
        {
            "site_id": hub_id,
            "storage_class": c,
            "capacity_kg": float(math.ceil(float(peak.get(c, 0.0)) * 1.2 / 500) * 500),
        }
        for c in ("ambient", "fresh", "chilled", "frozen")
    ]
    # the farms keep their conservation crops: a cellar (ambient) and a cold room (fresh)
    # sized by their field and orchard land, rounded to 100 kg
    for f in producers.sort_values("site_id").itertuples():
        for c, per_field, per_orchard in (("ambient", 1.2, 2.0), ("fresh", 0.5, 1.0)):
            kg = per_field * f.open_field_m2 + per_orchard * f.orchard_m2
            if kg >= 100:
                rows.append(
                    {"site_id": f.site_id, "storage_class": c, "capacity_kg": round(kg, -2)}
                )
    storage = pd.DataFrame(rows)
    return availability.reset_index(drop=True), storage


# --------------------------------------------------------------------------------------------
# Caisse commune
# --------------------------------------------------------------------------------------------

#: Communes of the rural caisse (Pays de Retz); every other point of sale is the urban caisse's.
RETZ_COMMUNES = frozenset(
    {
        "Le Pellerin",
        "Vue",
        "Cheix-en-Retz",
        "Rouans",
        "Brains",
        "Port-Saint-Père",
        "Sainte-Pazanne",
        "Chaumes-en-Retz",
    }
)
URBAN, RETZ = "cca_nantes", "cca_retz"
#: The two caisses. From the territory's documents: the allocation (100 € + 50 € per further
#: person), the minimum contribution (5 € per person), the Moneko and the urban caisse's
#: start in September 2025. Invented: the Pays de Retz caisse's start, its unspent-credit rule
#: and the approval thresholds.
CAISSES = (
    {
        "caisse_id": URBAN,
        "name": "Caisse commune urbaine (Nantes ouest et Sud-Loire)",
        "area": "Nantes, Saint-Herblain, Rezé, Bouguenais, Couëron, Indre, La Montagne, "
        "Saint-Jean-de-Boiseau, Bouaye",
        "currency": "Moneko",
        "start": "2025-09-01",
        "first_person_eur": 100.0,
        "additional_person_eur": 50.0,
        "min_contribution_per_person_eur": 5.0,
        "unspent": "carry",
        "approval_threshold_pct": 60.0,
    },
    {
        "caisse_id": RETZ,
        "name": "Caisse commune du Pays de Retz",
        "area": ", ".join(sorted(RETZ_COMMUNES)),
        "currency": "Moneko",
        "start": "2025-11-01",
        "first_person_eur": 100.0,
        "additional_person_eur": 50.0,
        "min_contribution_per_person_eur": 5.0,
        "unspent": "expire",
        "approval_threshold_pct": 45.0,
    },
)
#: The conventionnement grid: 15 criteria, ILLUSTRATIVE (the territory's committee chose a grid
#: of 15 criteria with points and weights; these labels and weights are invented).
#: criterion_id, label, weight (urban), weight (Pays de Retz), eliminatory minimum (0: none)
CRITERIA = (
    ("local_supply", "Approvisionnement local (moins de 100 km) [illustratif]", 3, 4, 0),
    ("seasonal", "Produits de saison [illustratif]", 2, 2, 0),
    ("organic", "Bio ou en conversion [illustratif]", 2, 2, 0),
    ("fair_prices", "Prix justes aux producteurs [illustratif]", 3, 3, 2),
    ("accessible_prices", "Prix accessibles [illustratif]", 3, 3, 2),
    ("opening_hours", "Horaires d'ouverture (soir, samedi) [illustratif]", 2, 1, 0),
    ("priority_districts", "Proximité des quartiers prioritaires [illustratif]", 2, 1, 0),
    ("welcome", "Accueil sans stigmatisation [illustratif]", 2, 2, 2),
    ("local_currency", "Accepte la Moneko [illustratif]", 1, 1, 0),
    ("range", "Diversité de l'offre (frais, sec, hygiène) [illustratif]", 2, 2, 0),
    ("physical_access", "Accessibilité (PMR, transports) [illustratif]", 1, 2, 0),
    ("governance", "Gouvernance (association, coopérative, ESS) [illustratif]", 1, 1, 0),
    ("work", "Emplois et conditions de travail [illustratif]", 1, 1, 0),
    ("waste", "Lutte contre le gaspillage, vrac [illustratif]", 1, 1, 0),
    ("participation", "Participation à la vie de la caisse [illustratif]", 1, 1, 0),
)
MAX_POINTS = 5
#: Co-funders: the CCAS de Nantes's 36,500 € is the territory's figure; the others are invented.
FUNDERS = (
    ("CCAS de Nantes", URBAN, "2025-09-01", 36500.0),
    ("Nantes Métropole (montant inventé)", URBAN, "2025-09-01", 60000.0),
    ("Nantes Métropole (montant inventé)", URBAN, "2025-11-01", 60000.0),
    ("Fondation (montant inventé)", URBAN, "2025-10-01", 25000.0),
    ("Département de Loire-Atlantique (montant inventé)", RETZ, "2025-11-01", 18000.0),
    ("Communes du Pays de Retz (montant inventé)", RETZ, "2025-12-01", 6000.0),
)
#: Share of households under the minimum contribution: anomalies `vivres check` must name.
UNDER_MINIMUM_SHARE = 0.01


def caisse_of_site(commune: str, where: Place | None = None) -> str:
    where = NANTES if where is None else where
    return where.rural_caisse if commune in where.rural_communes else where.urban_caisse


def build_caisses(where: Place) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The caisses, the allocation rule they share (for the one-rule ledger) and co-funders."""
    caisses = pd.DataFrame(list(where.caisses))
    rule = pd.DataFrame(
        [
            {
                "name": "cca_100_50",
                "first_person_eur": 100.0,
                "additional_person_eur": 50.0,
                "local_currency": where.local_currency,
            }
        ]
    )
    funders = pd.DataFrame(
        list(where.funders), columns=["funder", "caisse_id", "month", "amount_eur"]
    )
    return caisses, rule, funders


def build_approvals(
    rng: np.random.Generator, sites: pd.DataFrame, where: Place
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The 15-criteria grid, each caisse's assessment of the points of sale of its area, and
    ``sites`` with ``conventionne`` set by the grid (few shops pass at the start) and no
    "conventionnée" in the name of a shop that is not."""
    urban = where.urban_caisse
    criteria = pd.DataFrame(
        [
            {
                "caisse_id": c["caisse_id"],
                "criterion_id": cid,
                "label": label,
                "weight": float(w_urban if c["caisse_id"] == urban else w_retz),
                "max_points": MAX_POINTS,
                "eliminatory": minimum > 0,
                "min_points": minimum,
            }
            for c in where.caisses
            for cid, label, w_urban, w_retz, minimum in CRITERIA
        ]
    )
    quality = {SHOP: (7.0, 3.0), EPI: (4.0, 5.0), MKT: (4.0, 5.0), BG: (3.0, 6.0)}
    assessed_on = {urban: "2025-07-{:02d}", where.rural_caisse: "2025-10-{:02d}"}
    rows, approved = [], {}
    shops = sites.loc[sites["kind"].isin(list(quality))]
    for site in shops.itertuples(index=False):
        caisse = caisse_of_site(site.commune, where)
        c = next(x for x in where.caisses if x["caisse_id"] == caisse)
        q = rng.beta(*quality[site.kind])
        points = np.clip(np.round(MAX_POINTS * (q + rng.normal(0, 0.2, len(CRITERIA)))), 0, 5)
        day = int(rng.integers(1, 29))
        total, worth, eliminated = 0.0, 0.0, False
        for (cid, _, w_urban, w_retz, minimum), p in zip(CRITERIA, points, strict=True):
            w = w_urban if caisse == urban else w_retz
            total += w
            worth += w * p / MAX_POINTS
            eliminated |= p < minimum
            rows.append(
                {
                    "caisse_id": caisse,
                    "site_id": site.site_id,
                    "criterion_id": cid,
                    "points": int(p),
                    "assessor": "comité citoyen (illustratif)",
                    "assessed_on": assessed_on[caisse].format(day),
                }
            )
        approved[site.site_id] = not eliminated and 100 * worth / total >= float(
            c["approval_threshold_pct"]
        )
    conv = sites["site_id"].map(lambda site_id: approved.get(site_id, False)).astype(bool)
    names = sites["name"].where(
        conv | ~sites["name"].str.contains("conventionnée"),
        sites["name"].str.replace("conventionnée", "de quartier", regex=False),
    )
    return criteria, pd.DataFrame(rows), sites.assign(conventionne=conv, name=names)


def build_households(
    rng: np.random.Generator, n: int, caisse_ids: list[str], where: Place
) -> pd.DataFrame:
    """Households of the caisses (about one in five in the Pays de Retz when it has points of
    sale), enrolled from their caisse's start; contributions chosen by each household around
    the indicative scale of its means and size, at least 5 € per person but for a few."""
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.36, 0.24, 0.17, 0.12, 0.07, 0.04])
    rural, urban = where.rural_caisse, where.urban_caisse
    caisse = np.where((rng.random(n) < 0.18) & (rural in caisse_ids), rural, urban)
    starts = {c["caisse_id"]: date.fromisoformat(c["start"]) for c in where.caisses}
    joined = []
    for c in caisse:
        first = starts[c].toordinal()
        if rng.random() < 0.6:  # the launch cohort, enrolled by the 10th of the first month
            day = first - 20 + int(rng.integers(0, 30))
        else:  # then newcomers until December
            day = first + 10 + int(rng.integers(0, date(2025, 12, 10).toordinal() - first - 10))
        joined.append(date.fromordinal(day))
    units = consumption_units(sizes)
    per_unit = np.clip(rng.lognormal(math.log(480), 0.55, size=n), 60, 1500)
    rav = np.round(per_unit * units, -1)
    given = rng.random(n) < 0.85
    uppers = np.array([u for u, _ in INDICATIVE_BANDS])
    shares = np.array([s for _, s in INDICATIVE_BANDS])
    band = np.searchsorted(uppers, per_unit, side="right").clip(0, len(uppers) - 1)
    minimum = 5.0 * sizes
    indicative = np.where(given, np.maximum(shares[band] * rav, minimum), minimum)
    choice = np.where(given, rng.uniform(0.7, 1.3, n), rng.choice([1.0, 1.0, 1.5, 2.0, 3.0], n))
    contrib = np.maximum(np.round(indicative * choice), minimum)
    under = np.zeros(n, dtype=bool)
    under[rng.choice(n, size=max(1, round(UNDER_MINIMUM_SHARE * n)), replace=False)] = True
    contrib = np.where(under, np.maximum(np.floor(minimum * 0.6), 1.0), contrib)
    return pd.DataFrame(
        {
            "household_id": [f"hh_{i + 1:05d}" for i in range(n)],
            "size": sizes.astype(int),
            "monthly_contribution_eur": contrib.astype(float),
            "joined": [d.isoformat() for d in joined],
            "caisse_id": caisse,
            "reste_a_vivre_eur": [f"{v:.0f}" if g else "" for v, g in zip(rav, given, strict=True)],
        }
    )


def build_transactions(
    rng: np.random.Generator,
    households: pd.DataFrame,
    sites: pd.DataFrame,
    meta: dict,
    first_eur: float,
    extra_eur: float,
    where: Place,
) -> pd.DataFrame:
    """Payments from each caisse's start, at the shops its grid approved (≈ 0.5 % elsewhere)."""
    pos = sites.loc[sites["kind"].isin(list(SIZE))].reset_index(drop=True)
    pos_caisse = pos["commune"].map(lambda commune: caisse_of_site(commune, where)).to_numpy()
    approved = pos["conventionne"].to_numpy(bool)
    kind_w = {SHOP: 3.0, EPI: 2.0, MKT: 2.0, BG: 1.0, REST: 0.5}
    all_sites = pos["site_id"].tolist()
    weights = pos["kind"].map(kind_w).to_numpy()
    currencies = {c["caisse_id"]: c["currency"] for c in where.caisses}
    starts = {c["caisse_id"]: date.fromisoformat(c["start"]).month for c in where.caisses}
    # open dates in the transaction year, per site (flattened with offsets per site and month)
    y0 = date(TX_YEAR, 1, 1)
    n_days = (date(TX_YEAR + 1, 1, 1) - y0).days
    days = [y0 + timedelta(days=i) for i in range(n_days)]
    flat, offs = [], np.zeros((len(all_sites), 13), dtype=np.int64)
    slot_open = np.zeros((len(all_sites), 7, 2), dtype=np.int64)
    slot_close = np.zeros((len(all_sites), 7, 2), dtype=np.int64)
    n_slots = np.zeros((len(all_sites), 7), dtype=np.int64)
    for i, sid in enumerate(all_sites):
        open_days = set(meta[sid]["open_days"])
        for mth in range(12):
            offs[i, mth] = len(flat)
            flat += [
                d.toordinal()
                for d in days
                if d.month == mth + 1 and d.weekday() in open_days and d not in HOLIDAYS
            ]
        offs[i, 12] = len(flat)
        for wd, o, c in meta[sid]["slots"]:
            k = n_slots[i, wd]
            if k < 2:
                slot_open[i, wd, k] = int(o[:2]) * 60 + int(o[3:])
                slot_close[i, wd, k] = int(c[:2]) * 60 + int(c[3:])
                n_slots[i, wd] += 1
    flat = np.array(flat, dtype=np.int64)

    hh_rows, amounts, months, sites_idx, currency = [], [], [], [], []
    local_p = np.where(
        rng.random(len(households)) < 0.2,
        rng.uniform(0.3, 0.7, len(households)),
        rng.uniform(0.0, 0.05, len(households)),
    )
    over = rng.random(len(households)) < 0.015
    columns = zip(households["size"], households["joined"], households["caisse_id"], strict=True)
    for h, (size, joined, caisse) in enumerate(columns):
        mine = np.flatnonzero(approved & (pos_caisse == caisse))
        if not len(mine):
            continue
        w_conv = weights[mine] / weights[mine].sum()
        alloc = first_eur + extra_eur * (size - 1)
        jd = date.fromisoformat(joined)
        first_month = jd.month if jd.day <= 10 else jd.month + 1
        first_month = max(first_month if jd.year == TX_YEAR else 1, starts[caisse])
        if first_month > 12:
            continue
        n_pref = int(rng.integers(1, 4))
        prefs = mine[rng.choice(len(mine), size=min(n_pref, len(mine)), replace=False, p=w_conv)]
        pref_w = np.array([0.6, 0.3, 0.1][: len(prefs)])
        pref_w /= pref_w.sum()
        mean_frac = rng.beta(14, 1.8)
        over_months = (
            set(
                rng.choice(
                    np.arange(first_month, 13), size=min(2, 13 - first_month), replace=False
                ).tolist()
            )
            if over[h]
            else set()
        )
        others = np.flatnonzero(~(approved & (pos_caisse == caisse)))
        for mth in range(first_month, 13):
            if mth in over_months:
                frac = rng.uniform(1.12, 1.4)
            else:
                frac = min(0.97, max(0.3, mean_frac + rng.normal(0, 0.06)))
            spend = alloc * frac
            n = int(np.clip(round(spend / rng.uniform(11, 20)), 5, 15))
            parts = rng.gamma(4.0, 1.0, size=n)
            amt = np.clip(spend * parts / parts.sum(), 3.0, 60.0)
            if mth not in over_months and amt.sum() > 0.985 * alloc:
                amt = np.maximum(amt * 0.985 * alloc / amt.sum(), 3.0)
            amt = np.floor(amt * 100) / 100
            where = prefs[rng.choice(len(prefs), size=n, p=pref_w)]
            # anomalies: ~0.5 % paid at a shop the household's caisse has not approved
            bad = rng.random(n) < 0.005
            if len(others) and bad.any():
                where[bad] = others[rng.integers(0, len(others), size=int(bad.sum()))]
            hh_rows.append(np.full(n, h))
            amounts.append(amt)
            months.append(np.full(n, mth - 1))
            sites_idx.append(where)
            currency.append(
                np.where(rng.random(n) < local_p[h], currencies[caisse], "EUR").astype(object)
            )
    hh = np.concatenate(hh_rows)
    amt = np.concatenate(amounts)
    mth = np.concatenate(months)
    sidx = np.concatenate(sites_idx)
    cur = np.concatenate(currency)
    lo, hi = offs[sidx, mth], offs[sidx, mth + 1]
    has = hi > lo
    hh, amt, mth, sidx, cur, lo, hi = (a[has] for a in (hh, amt, mth, sidx, cur, lo, hi))
    day = flat[lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)]
    wd = np.array([date.fromordinal(int(d)).weekday() for d in day])
    slot = (rng.random(len(day)) * n_slots[sidx, wd]).astype(np.int64)
    o, c = slot_open[sidx, wd, slot], slot_close[sidx, wd, slot]
    minute = o + (rng.random(len(day)) * (c - o - 1)).astype(np.int64)
    sec = rng.integers(0, 60, size=len(day))
    ts = [
        f"{date.fromordinal(int(d)).isoformat()}T{mi // 60:02d}:{mi % 60:02d}:{se:02d}"
        for d, mi, se in zip(day, minute, sec, strict=True)
    ]
    out = pd.DataFrame(
        {
            "timestamp": ts,
            "household_id": households["household_id"].to_numpy()[hh],
            "site_id": np.array(all_sites)[sidx],
            "amount": np.round(amt, 2),
            "currency": cur,
        }
    )
    out = out.sort_values(["timestamp", "household_id", "site_id"], kind="mergesort")
    out = out.drop_duplicates(["timestamp", "household_id", "site_id"])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Vehicles
# --------------------------------------------------------------------------------------------

VEHICLE_TEMPLATES = (
    (
        "Pôle logistique Rezé",
        "hub_reze",
        "refrigerated_van",
        1200,
        4,
        True,
        0.32,
        26.0,
        "06:30",
        "14:30",
        8.0,
        0.25,
        "mon,tue,wed,thu,fri,sat",
    ),
    (
        "Chantier d'insertion Terre & Tournées",
        "depot_bouguenais",
        "refrigerated_van",
        900,
        3,
        True,
        0.30,
        24.0,
        "07:30",
        "15:30",
        7.5,
        0.24,
        "mon,tue,wed,thu,fri",
    ),
    (
        "Fédération des groupements d'achat",
        "hub_reze",
        "truck",
        3000,
        8,
        False,
        0.42,
        28.0,
        "05:30",
        "13:30",
        8.0,
        0.40,
        "mon,tue,wed,thu,fri",
    ),
    (
        "Réseau des épiceries solidaires",
        "depot_bouguenais",
        "electric_utility",
        500,
        1,
        False,
        0.25,
        23.0,
        "10:00",
        "18:00",
        7.0,
        0.02,
        "mon,tue,wed,thu,fri",
    ),
)


#: The member organisations (``organisations.csv``): who owns which shops (by kind), depots
#: and vehicles (by template, in VEHICLE_TEMPLATES' order). Farms sell to whoever buys.
ORGANISATIONS = (
    ("org_pole", "Pôle logistique mutualisé de Rezé", "pole_logistique"),
    ("org_episol", "Réseau des épiceries solidaires Sud-Loire", "reseau_epiceries"),
    ("org_gpa", "Fédération des groupements d'achat du pays nantais", "federation_groupements"),
    ("org_chantier", "Chantier d'insertion Terre & Tournées", "chantier_insertion"),
)
OWNER_OF_KIND = {
    "hub": "org_pole",
    "market": "org_pole",
    "caisse_shop": "org_pole",
    "epicerie_solidaire": "org_episol",
    "buying_group": "org_gpa",
    "social_restaurant": "org_chantier",
    "depot": "org_chantier",
}
VEHICLE_OWNERS = ("org_pole", "org_chantier", "org_gpa", "org_episol")


# --------------------------------------------------------------------------------------------
# Place: the geography of a territory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Place:
    """Where a generated territory lies and what its local bodies are called.

    Everything the generator draws (catalogue, hours, land, demand, households, payments) is the
    same for every place; a place decides the hub and depot, the communes points of sale and farms
    are put in (hand-placed lists, then ``pos_anchors`` / ``farm_communes`` cycled in order), the
    water farms keep away from, the second caisse's communes and the names of the hub, the
    organisations, caisses and funders. ``NANTES`` is the sample's; ``data/federation.py`` builds
    one per département from commune polygons.
    """

    key: str
    #: INSEE code -> (name, lat, lon, area km²) of every commune a site may be put in
    communes: dict[str, tuple[str, float, float, float]]
    hub: tuple[float, float]
    max_km: float = MAX_KM_FROM_HUB
    hub_site: dict[str, str]  # site_id, name, commune, address, notes
    depot_site: dict[str, str]  # site_id, name, code (INSEE), address, notes
    depot_point: tuple[float, float]
    #: hand-placed points of sale and farms (POINTS_OF_SALE, FARMS shapes); may be empty
    points_of_sale: tuple = ()
    farms: tuple = ()
    #: (label, INSEE code, lat, lon, radius m): extra points of sale, cycled in order
    pos_anchors: tuple[tuple[str, str, float, float, float], ...]
    #: the commune whose anchors are districts ("quartier <label>"); others get "centre"
    district_code: str = ""
    #: INSEE codes of the extra farms, cycled in order
    farm_communes: tuple[str, ...]
    river: tuple[tuple[float, float], ...] = ()
    lakes: tuple[tuple[float, float, float], ...] = ()  # centre and keep-out radius (m)
    #: the two caisses (the urban one first); the second is the caisse of ``rural_communes``
    caisses: tuple[dict, dict]
    rural_communes: frozenset[str]
    funders: tuple[tuple[str, str, str, float], ...]
    local_currency: str
    organisations: tuple[tuple[str, str, str], ...]
    #: the vehicles' organisation label, by template (VEHICLE_TEMPLATES' order)
    vehicle_organisations: tuple[str, ...]

    @property
    def urban_caisse(self) -> str:
        return str(self.caisses[0]["caisse_id"])

    @property
    def rural_caisse(self) -> str:
        return str(self.caisses[1]["caisse_id"])

    @functools.cached_property
    def river_array(self) -> np.ndarray:
        return np.array(self.river, dtype=float).reshape(-1, 2)


#: The sample: west of Nantes and the Pays de Retz, the hub next to the MIN in Rezé.
NANTES = Place(
    key="nantes",
    communes=COMMUNES,
    hub=HUB,
    hub_site={
        "site_id": "hub_reze",
        "name": "Pôle logistique mutualisé de Rezé",
        "commune": "Rezé",
        "address": "bd Alfred Nobel, zone des Trois-Moulins (à côté du MIN)",
        "notes": "quai 4, côté halle des producteurs ; badge à l'accueil",
    },
    depot_site={
        "site_id": "depot_bouguenais",
        "name": "Chantier d'insertion Terre & Tournées",
        "code": "44020",
        "address": "zone artisanale des Couëts",
        "notes": "chantier d'insertion maraîchage et livraison ; garage des véhicules",
    },
    depot_point=(47.1845, -1.6060),
    points_of_sale=POINTS_OF_SALE,
    farms=FARMS,
    pos_anchors=EXTRA_POS_ANCHORS,
    district_code="44109",
    farm_communes=EXTRA_FARM_COMMUNES,
    river=LOIRE,
    lakes=(GRAND_LIEU,),
    caisses=CAISSES,
    rural_communes=RETZ_COMMUNES,
    funders=FUNDERS,
    local_currency="Moneko",
    organisations=ORGANISATIONS,
    vehicle_organisations=tuple(t[0] for t in VEHICLE_TEMPLATES),
)


def build_vehicles(scale: float, where: Place) -> pd.DataFrame:
    n = max(2, math.ceil(4 * scale))
    site_of = {
        "hub_reze": where.hub_site["site_id"],
        "depot_bouguenais": where.depot_site["site_id"],
    }
    rows = []
    for i in range(n):
        k = i % len(VEHICLE_TEMPLATES)
        t = VEHICLE_TEMPLATES[k]
        rows.append(
            {
                "vehicle_id": f"veh_{i + 1:02d}",
                "organisation": where.vehicle_organisations[k],
                "depot_site_id": site_of[t[1]],
                "kind": t[2],
                "capacity_kg": float(t[3]),
                "capacity_pallets": t[4],
                "refrigerated": t[5],
                "cost_per_km_eur": t[6],
                "cost_per_hour_eur": t[7],
                "shift_start": t[8],
                "shift_end": t[9],
                "max_route_h": t[10],
                "break_min": 30.0,
                "co2_kg_per_km": t[11],
                "days": t[12],
                "organisation_id": VEHICLE_OWNERS[i % len(VEHICLE_OWNERS)],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _write(df: pd.DataFrame, path: Path) -> None:
    df = df.copy()
    for col in df.columns:
        if df[col].dtype == bool:
            df[col] = np.where(df[col], "true", "false")
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def generate_territory(
    out_dir: Path | str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    years: int = HISTORY_YEARS,
    communes: Path | str | None = DEFAULT_COMMUNES,
    where: Place | None = None,
    verbose: bool = False,
) -> None:
    """Write a territory (19 CSV files) into ``out_dir``: the sample's geography (``NANTES``)
    unless ``where`` is given (``communes`` is then the file ``where`` was built from)."""
    where = NANTES if where is None else where
    if scale <= 0:
        raise ValueError("scale must be positive")
    if years not in (1, 2):
        raise ValueError("years must be 1 or 2")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = np.random.default_rng(seed).spawn(8)
    geo = Geo(Path(communes) if communes else None, where)
    n_weeks = 52 * years
    start = HISTORY_START if years == 2 else date(2025, 1, 1) - timedelta(days=2)

    # catalogue, crops
    r = streams[0]
    products = pd.DataFrame(
        PRODUCTS,
        columns=[
            "product_id",
            "name",
            "category",
            "unit",
            "kg_per_unit",
            "storage_class",
            "shelf_life_days",
            "fair_price_eur_per_kg",
            "base_kg_week",
        ],
    )
    # accessible shelf prices below the fair producer price: the caisse finances the gap
    accessible = r.uniform(0.70, 0.90, size=len(products))
    products["retail_price_eur_per_unit"] = np.round(
        products["fair_price_eur_per_kg"] * products["kg_per_unit"] * accessible, 2
    )
    crops = pd.DataFrame(
        [
            {
                "crop_id": c.crop_id,
                "name": c.name,
                "product_id": c.product,
                "family": c.family,
                "land_type": c.land,
                "bed_m2": BED_M2[c.land],
                "min_beds": c.min_beds,
                "plant_week_first": c.plant_first,
                "plant_week_last": c.plant_last,
                "labour_h_per_m2": c.labour_h_m2,
            }
            for c in CROPS
        ]
    )
    yields = pd.DataFrame(
        [
            {"crop_id": c.crop_id, "week_after_planting": c.harvest_first + k, "yield_kg_per_m2": y}
            for c in CROPS
            for k, y in enumerate(np.round(harvest_profile(c), 3))
        ]
    )

    sites, hours, meta = build_sites(streams[1], geo, scale)
    producers, producer_crops = build_producers(streams[2], sites, meta)

    means, pos_ids = demand_means(streams[3], sites, products, n_weeks)
    cal = calibrate(means, products, producers)
    means *= cal["product_scale"][None, :, None]
    producers = finish_producers(streams[4], producers, cal)
    orders = build_orders(streams[5], means, pos_ids, meta, products, n_weeks, start)

    # the caisses: the grid approves a few shops (its own stream, after the orders' draws)
    caisses, rule, funders = build_caisses(where)
    criteria, assessments, sites = build_approvals(np.random.default_rng([seed, 9]), sites, where)
    pos_caisses = sorted(
        set(sites.loc[sites["conventionne"], "commune"].map(lambda c: caisse_of_site(c, where)))
    )
    households = build_households(streams[6], max(10, round(400 * scale)), pos_caisses, where)
    tx = build_transactions(streams[7], households, sites, meta, 100.0, 50.0, where)
    vehicles = build_vehicles(scale, where)
    # its own stream (seed, 8): the twelve files above stay as they were before it existed
    availability, storage = build_week_supply(
        np.random.default_rng([seed, 8]),
        orders,
        products,
        crops,
        producers,
        producer_crops,
        str(sites.loc[sites["kind"] == "hub", "site_id"].iloc[0]),
    )
    sites = sites.assign(share_weight=1.0)
    # owners are set by kind (no random draw): the other files stay as they were
    sites = sites.assign(organisation_id=sites["kind"].map(OWNER_OF_KIND).fillna(""))
    organisations = pd.DataFrame(
        list(where.organisations), columns=["organisation_id", "name", "kind"]
    )

    tables = {
        "sites": sites,
        "opening_hours": hours,
        "products": products,
        "crops": crops,
        "crop_yields": yields,
        "producers": producers,
        "producer_crops": producer_crops,
        "vehicles": vehicles,
        "households": households,
        "caisse_rule": rule,
        "caisses": caisses,
        "funders": funders,
        "caisse_criteria": criteria,
        "shop_assessments": assessments,
        "orders": orders,
        "caisse_transactions": tx,
        "availability": availability,
        "storage": storage,
        "organisations": organisations,
    }
    for name, df in tables.items():
        _write(df[list(COLUMNS[name])], out / f"{name}.csv")
    if verbose:
        land = cal["land_total"]
        labour = producers["labour_h_per_week"].sum()
        print(
            f"land: open field {land[O]:,.0f} m², greenhouse {land[G]:,.0f} m², "
            f"orchard {land[V]:,.0f} m²; demand scale {cal['factor']}"
        )
        print(
            f"labour: peak need {cal['labour'].max():,.0f} h/week, "
            f"farms {labour:,.0f} h/week; crop demand last year "
            f"{cal['crop_value']:,.0f} EUR at fair prices, revenue floors "
            f"{producers['min_revenue_eur'].sum():,.0f} EUR"
        )
        for name, df in tables.items():
            print(f"{name:22s} {len(df):8d} rows")


#: Column order of every file (the contract is core/schema.py; tests check they agree).
COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": (
        "site_id",
        "name",
        "kind",
        "commune",
        "address",
        "lat",
        "lon",
        "service_min",
        "conventionne",
        "deliveries_per_week",
        "delivery_days",
        "contact",
        "notes",
        "share_weight",
        "organisation_id",
    ),
    "opening_hours": ("site_id", "weekday", "open", "close"),
    "products": (
        "product_id",
        "name",
        "category",
        "unit",
        "kg_per_unit",
        "storage_class",
        "shelf_life_days",
        "fair_price_eur_per_kg",
        "retail_price_eur_per_unit",
    ),
    "crops": (
        "crop_id",
        "name",
        "product_id",
        "family",
        "land_type",
        "bed_m2",
        "min_beds",
        "plant_week_first",
        "plant_week_last",
        "labour_h_per_m2",
    ),
    "crop_yields": ("crop_id", "week_after_planting", "yield_kg_per_m2"),
    "producers": (
        "producer_id",
        "site_id",
        "name",
        "open_field_m2",
        "greenhouse_m2",
        "orchard_m2",
        "labour_h_per_week",
        "min_revenue_eur",
        "organic",
        "contact",
    ),
    "producer_crops": ("producer_id", "crop_id"),
    "vehicles": (
        "vehicle_id",
        "organisation",
        "depot_site_id",
        "kind",
        "capacity_kg",
        "capacity_pallets",
        "refrigerated",
        "cost_per_km_eur",
        "cost_per_hour_eur",
        "shift_start",
        "shift_end",
        "max_route_h",
        "break_min",
        "co2_kg_per_km",
        "days",
        "organisation_id",
    ),
    "households": (
        "household_id",
        "size",
        "monthly_contribution_eur",
        "joined",
        "caisse_id",
        "reste_a_vivre_eur",
    ),
    "caisse_rule": ("name", "first_person_eur", "additional_person_eur", "local_currency"),
    "caisses": (
        "caisse_id",
        "name",
        "area",
        "currency",
        "start",
        "first_person_eur",
        "additional_person_eur",
        "min_contribution_per_person_eur",
        "unspent",
        "approval_threshold_pct",
    ),
    "funders": ("funder", "caisse_id", "month", "amount_eur"),
    "caisse_criteria": (
        "caisse_id",
        "criterion_id",
        "label",
        "weight",
        "max_points",
        "eliminatory",
        "min_points",
    ),
    "shop_assessments": (
        "caisse_id",
        "site_id",
        "criterion_id",
        "points",
        "assessor",
        "assessed_on",
    ),
    "orders": ("date", "site_id", "product_id", "quantity", "unit", "unit_price_eur"),
    "caisse_transactions": ("timestamp", "household_id", "site_id", "amount", "currency"),
    "availability": ("week_start", "site_id", "product_id", "kg"),
    "storage": ("site_id", "storage_class", "capacity_kg"),
    "organisations": ("organisation_id", "name", "kind"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "sample",
        help="output folder (default: data/sample)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply points of sale, farms, households, vehicles (default 1)",
    )
    parser.add_argument(
        "--years",
        type=int,
        default=HISTORY_YEARS,
        choices=(1, 2),
        help="years of order history (2 = 2024-2025, 1 = 2025 only)",
    )
    parser.add_argument(
        "--communes",
        type=Path,
        default=DEFAULT_COMMUNES,
        help="commune polygons (GeoJSON); embedded centroids are used if absent",
    )
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    generate_territory(
        args.out,
        seed=args.seed,
        scale=args.scale,
        years=args.years,
        communes=args.communes,
        verbose=not args.quiet,
    )
    if not args.quiet:
        print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
