"""Generate a federation: N territories spread over real French départements, and a sweep file.

Usage::

    python data/federation.py --departements 13,34,44,69 --territories 8 --scale 0.5 \\
        --seed 1 --communes ../shared/osm/communes --out out/federation

or ``vivres federation generate`` (same options).

Each territory is a territory of ``data/generate.py`` (same catalogue, crop calendar, demand,
households and payments model) at its own scale and seed, around a city of a département whose
commune polygons are in ``--communes`` (files ``communes-<dép>-*.geojson``, properties ``code``
and ``nom``, EPSG:4326; nothing is downloaded). The k-th territory of a département takes that
département's k-th city in :data:`CITIES` (then the communes ranked by the density proxy below).

The commune files carry no population, so the geography uses proxies, and says so:

- the hub is at the city's representative point (computed in Lambert-93, as for the sample);
- *urban* communes are those within :data:`URBAN_KM` of the hub; points of sale go there, each
  commune weighted by its area (size) × exp(−distance / :data:`DENSITY_KM`) (density: nearer
  the centre, denser), dealt in that proportion by a smooth weighted round robin;
- *rural* communes are the others within :data:`FARM_KM`; farms go there, weighted by area;
- the second caisse is that of the urban communes beyond :data:`INNER_KM` (the first, the
  city's and its inner ring's).

The folder gets one sub-folder per territory, ``federation.csv`` (one row per territory: its
folder, département, hub, scale, seed, counts) and ``sweep.yaml`` (every territory × the base
and one demand factor; ``vivres sweep out/federation/sweep.yaml``). A sweep file may also name
the federation's folder among its ``territories``: it stands for all of them.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from api.sweep import FEDERATION_MANIFEST as MANIFEST  # noqa: E402
from core.errors import InputError  # noqa: E402

#: Cities a département's territories are centred on, in order (INSEE codes).
CITIES: dict[str, tuple[str, ...]] = {
    "13": ("13055", "13001", "13056", "13004"),  # Marseille, Aix, Martigues, Arles
    "34": ("34172", "34032", "34301", "34145"),  # Montpellier, Béziers, Sète, Lunel
    "44": ("44109", "44184", "44003", "44036"),  # Nantes, Saint-Nazaire, Ancenis, Châteaubriant
    "69": ("69123", "69264", "69091"),  # Lyon, Villefranche-sur-Saône, Givors
}
#: Citizen currencies of these cities (the caisses' local currency); "EUR" elsewhere.
CURRENCIES = {"13": "Roue", "34": "Graine", "44": "Moneko", "69": "Gonette"}
URBAN_KM = 12.0
INNER_KM = 6.0
DENSITY_KM = 8.0
FARM_KM = 44.0  # farms within 44 km of the hub (the generator keeps every site within 49 km)
SWEEP = "sweep.yaml"


def load_generator() -> ModuleType:
    """``data/generate.py`` as a module (it is a script, not a package)."""
    name = "vivres_data_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "data" / "generate.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules[name]


def slug(text: str) -> str:
    """ASCII, lower case, words joined by '-': "Aix-en-Provence" -> "aix-en-provence"."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def commune_file(folder: Path, departement: str) -> Path:
    """The commune polygons of ``departement`` in ``folder`` (``communes-<dép>-*.geojson``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"--communes {folder}: no such folder (give the folder of the commune polygon files "
            "communes-<département>-<name>.geojson, e.g. ../shared/osm/communes; nothing is "
            "downloaded)"
        )
    found = sorted(folder.glob(f"communes-{departement}-*.geojson")) + sorted(
        folder.glob(f"communes-{departement}.geojson")
    )
    if not found:
        have = sorted(p.name for p in folder.glob("communes-*.geojson"))
        raise InputError(
            f"--communes {folder}: no file communes-{departement}-*.geojson for département "
            f"{departement!r} (files there: {', '.join(have) or 'none'})"
        )
    return found[0]


def read_communes(path: Path) -> pd.DataFrame:
    """One row per commune: code, nom, lat, lon (representative point), area_km2."""
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio's errors name the file but not what was expected
        raise InputError(f"{path.name}: not a readable GeoJSON file ({exc})") from None
    missing = {"code", "nom"} - set(gdf.columns)
    if missing:
        raise InputError(
            f"{path.name}: property {', '.join(sorted(missing))} missing (expected code, nom)"
        )
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise InputError(f"{path.name}: expected EPSG:4326 coordinates; got {gdf.crs}")
    lambert = gdf.to_crs(2154)
    points = lambert.representative_point().to_crs(4326)
    return pd.DataFrame(
        {
            "code": gdf["code"].astype(str),
            "nom": gdf["nom"].astype(str),
            "lat": points.y.round(4),
            "lon": points.x.round(4),
            "area_km2": (lambert.area / 1e6).round(1),
        }
    ).reset_index(drop=True)


def weighted_cycle(keys: list[str], weights: np.ndarray, length: int) -> tuple[str, ...]:
    """``length`` keys in proportion to ``weights``, spread out (smooth weighted round robin:
    each step the key with the most credit is taken and pays the total back)."""
    weights = np.asarray(weights, dtype=float)
    credit = np.zeros(len(keys))
    total = float(weights.sum())
    out = []
    for _ in range(length):
        credit += weights
        i = int(np.argmax(credit))
        credit[i] -= total
        out.append(keys[i])
    return tuple(out)


def hub_codes(communes: pd.DataFrame, departement: str) -> list[str]:
    """The département's cities in order: :data:`CITIES`, then the communes with the most
    representative points within 10 km (a density proxy), each 20 km from those before."""
    listed = [c for c in CITIES.get(departement, ()) if c in set(communes["code"])]
    lat, lon = communes["lat"].to_numpy(), communes["lon"].to_numpy()
    gen = load_generator()
    dist = gen.dist_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) / 1000
    crowd = (dist < 10).sum(axis=1)
    index = {c: i for i, c in enumerate(communes["code"])}
    chosen = [index[c] for c in listed]
    for i in np.argsort(-crowd, kind="stable"):
        if all(dist[i, j] >= 20 for j in chosen):
            chosen.append(int(i))
    return [str(communes["code"].iloc[i]) for i in chosen]


def departement_place(path: Path, departement: str, rank: int = 0):
    """The ``Place`` of the ``rank``-th territory of a département (see the module doc)."""
    gen = load_generator()
    communes = read_communes(path)
    codes = hub_codes(communes, departement)
    hub_code = codes[rank % len(codes)]
    by_code = communes.set_index("code")
    city = str(by_code.at[hub_code, "nom"])
    hub = (float(by_code.at[hub_code, "lat"]), float(by_code.at[hub_code, "lon"]))
    d_km = gen.dist_m(hub[0], hub[1], communes["lat"].to_numpy(), communes["lon"].to_numpy()) / 1000
    communes = communes.assign(d_km=d_km)
    urban = communes.loc[(communes["d_km"] <= URBAN_KM) | (communes["code"] == hub_code)]
    rural = communes.loc[(communes["d_km"] > URBAN_KM) & (communes["d_km"] <= FARM_KM)]
    if rural.empty:
        raise InputError(f"{path.name}: no commune between {URBAN_KM} and {FARM_KM} km of {city}")
    shop_weight = urban["area_km2"].to_numpy() * np.exp(-urban["d_km"].to_numpy() / DENSITY_KM)
    anchors_of = {
        str(r.code): (
            str(r.nom),
            str(r.code),
            float(r.lat),
            float(r.lon),
            float(min(3000.0, 300 * math.sqrt(max(r.area_km2, 0.1)))),
        )
        for r in urban.itertuples()
    }
    pos_anchors = tuple(
        anchors_of[c] for c in weighted_cycle(list(anchors_of), shop_weight, 4 * len(urban) + 40)
    )
    farm_communes = weighted_cycle(
        rural["code"].tolist(), rural["area_km2"].to_numpy(), 2 * len(rural) + 40
    )
    others = urban.loc[urban["code"] != hub_code].sort_values("d_km", kind="stable")
    depot = others.iloc[0] if len(others) else urban.iloc[0]
    outer = frozenset(urban.loc[urban["d_km"] > INNER_KM, "nom"].astype(str))
    key = slug(city)
    de_city = gen._de(city)
    currency = CURRENCIES.get(departement, "EUR")
    urban_id, outer_id = f"cca_{key}".replace("-", "_"), f"cca_{key}_voisines".replace("-", "_")
    template_urban, template_outer = gen.CAISSES
    inner_names = sorted(set(urban["nom"]) - outer)
    caisses = (
        template_urban
        | {
            "caisse_id": urban_id,
            "name": f"Caisse commune urbaine {de_city}",
            "area": ", ".join(inner_names),
            "currency": currency,
        },
        template_outer
        | {
            "caisse_id": outer_id,
            "name": f"Caisse commune des communes voisines {de_city}",
            "area": ", ".join(sorted(outer)),
            "currency": currency,
        },
    )
    hub_name = f"Pôle logistique mutualisé {de_city}"
    depot_name = f"Chantier d'insertion {gen._de(str(depot['nom']))}"
    return gen.Place(
        key=key,
        communes={
            str(r.code): (str(r.nom), float(r.lat), float(r.lon), float(r.area_km2))
            for r in communes.itertuples()
        },
        hub=hub,
        hub_site={
            "site_id": f"hub_{key}".replace("-", "_"),
            "name": hub_name,
            "commune": city,
            "address": "zone logistique (adresse inventée)",
            "notes": "quai de réception ; badge à l'accueil",
        },
        depot_site={
            "site_id": f"depot_{slug(str(depot['nom']))}".replace("-", "_"),
            "name": depot_name,
            "code": str(depot["code"]),
            "address": "zone artisanale (adresse inventée)",
            "notes": "chantier d'insertion maraîchage et livraison ; garage des véhicules",
        },
        depot_point=(float(depot["lat"]), float(depot["lon"])),
        pos_anchors=pos_anchors,
        farm_communes=farm_communes,
        caisses=caisses,
        rural_communes=outer,
        funders=(
            (f"CCAS {de_city} (montant inventé)", urban_id, "2025-09-01", 36500.0),
            (f"Métropole {de_city} (montant inventé)", urban_id, "2025-09-01", 60000.0),
            ("Fondation (montant inventé)", urban_id, "2025-10-01", 25000.0),
            (f"Département {departement} (montant inventé)", outer_id, "2025-11-01", 18000.0),
            ("Communes voisines (montant inventé)", outer_id, "2025-12-01", 6000.0),
        ),
        local_currency="" if currency == "EUR" else currency,
        organisations=(
            ("org_pole", hub_name, "pole_logistique"),
            ("org_episol", f"Réseau des épiceries solidaires {de_city}", "reseau_epiceries"),
            ("org_gpa", f"Fédération des groupements d'achat {de_city}", "federation_groupements"),
            ("org_chantier", depot_name, "chantier_insertion"),
        ),
        vehicle_organisations=(
            f"Pôle logistique {city}",
            depot_name,
            "Fédération des groupements d'achat",
            "Réseau des épiceries solidaires",
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One territory of a federation, before it is generated."""

    index: int  # 1-based
    departement: str
    rank: int  # the département's rank-th city
    scale: float
    seed: int


def members(
    departements: list[str], territories: int, *, scale: float, seed: int, spread: float
) -> list[Member]:
    """Territory i goes to département i mod D (its i // D-th city), at its own seed (seed + i)
    and scale (``scale`` × a factor drawn in [1 − spread, 1 + spread] from ``seed``)."""
    if territories < 1:
        raise InputError(f"--territories: expected at least 1; got {territories}")
    if not departements:
        raise InputError("--departements: give at least one département number, e.g. 13,34")
    for dep in departements:
        if not re.fullmatch(r"[0-9]{2,3}|2[AB]", dep):
            raise InputError(f"--departements: {dep!r} is not a département number")
    if scale <= 0:
        raise InputError(f"--scale: expected a number > 0; got {scale}")
    if not 0 <= spread < 1:
        raise InputError(f"--scale-spread: expected a number in [0, 1); got {spread}")
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, territories)
    return [
        Member(
            index=i + 1,
            departement=departements[i % len(departements)],
            rank=i // len(departements),
            scale=max(0.05, round(scale * float(factors[i]), 2)),
            seed=seed + i,
        )
        for i in range(territories)
    ]


def generate_federation(
    out: Path,
    *,
    departements: list[str],
    territories: int,
    communes: Path,
    scale: float = 1.0,
    seed: int = 42,
    spread: float = 0.4,
    years: int = 2,
    verbose: bool = False,
) -> pd.DataFrame:
    """Write every territory, ``federation.csv`` and ``sweep.yaml`` into ``out``; return the
    manifest. Every input is checked (and every commune file read) before anything is written."""
    gen = load_generator()
    if years not in (1, 2):
        raise InputError(f"--years: expected 1 or 2; got {years}")
    plan = members(departements, territories, scale=scale, seed=seed, spread=spread)
    files = {dep: commune_file(Path(communes), dep) for dep in dict.fromkeys(departements)}
    places = {
        (m.departement, m.rank): departement_place(files[m.departement], m.departement, m.rank)
        for m in plan
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for m in plan:
        where = places[m.departement, m.rank]
        folder = f"t{m.index:02d}-{m.departement}-{where.key}"
        started = time.perf_counter()
        gen.generate_territory(
            out / folder,
            seed=m.seed,
            scale=m.scale,
            years=years,
            communes=files[m.departement],
            where=where,
        )
        sites = pd.read_csv(out / folder / "sites.csv")
        rows.append(
            {
                "territory": folder,
                "departement": m.departement,
                "hub_commune": where.hub_site["commune"],
                "hub_lat": where.hub[0],
                "hub_lon": where.hub[1],
                "scale": m.scale,
                "seed": m.seed,
                "points_of_sale": int((~sites["kind"].isin(["hub", "depot", "farm"])).sum()),
                "farms": int((sites["kind"] == "farm").sum()),
            }
        )
        if verbose:
            print(
                f"{folder}: scale {m.scale}, seed {m.seed} ({time.perf_counter() - started:.1f} s)"
            )
    manifest = pd.DataFrame(rows)
    manifest.to_csv(out / MANIFEST, index=False, lineterminator="\n")
    (out / SWEEP).write_text(sweep_text(manifest["territory"].tolist()), encoding="utf-8")
    return manifest


def sweep_text(folders: list[str]) -> str:
    """A sweep over the federation: each territory's base plan and 20 % more demand."""
    names = ", ".join(f"'{f}'" for f in folders)
    return (
        "# vivres sweep sweep.yaml --out out/federation-sweep\n"
        "name: federation\n"
        f"territories: [{names}]\n"
        "scenarios: [base]\n"
        "grid: {demand_factor: [1.2]}\n"
        "seeds: [0]\n"
        "plan: {work: 0.05, horizon_weeks: 26}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departements", required=True, help="e.g. 13,34,44,69")
    parser.add_argument("--territories", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scale-spread", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--years", type=int, default=2, choices=(1, 2))
    parser.add_argument("--communes", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        generate_federation(
            args.out,
            departements=[d.strip() for d in args.departements.split(",") if d.strip()],
            territories=args.territories,
            communes=args.communes,
            scale=args.scale,
            seed=args.seed,
            spread=args.scale_spread,
            years=args.years,
            verbose=True,
        )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
