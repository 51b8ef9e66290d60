"""Convert two real grocery scanner datasets bundled in a registry package into territories.

Source: the R package **bayesm** (Rossi, Allenby & McCulloch, *Bayesian Statistics and
Marketing*), as packaged by Debian (``r-cran-bayesm``, licence GPL-2+; the data come from the
Dominick's Finer Foods database of the James M. Kilts Center, University of Chicago Booth School
of Business, shared for academic research). Obtain it offline from the Debian registry::

    apt-get download r-cran-bayesm && dpkg-deb -x r-cran-bayesm_*.deb /tmp/bayesm
    pip install rdata        # reads .rda files (only this script needs it)
    python -m benchmarks.convert_bayesm /tmp/bayesm out/datasets

Two territories are written (nothing is committed; ≈ 5 MB of CSV):

- ``dominick_oj``: refrigerated orange juice, 83 Chicago-area stores × 11 brands, weekly
  (weeks 40-160 of Dominick's calendar, 1990-06 … 1992-10, with gaps): 106,139 store-brand-weeks.
  Quantity = ounces sold / 64 (cartons of 64 oz ≈ 1.95 kg); unit price = price per ounce × 64;
  ``promo`` = the brand was on deal in that store that week (``deal``).
- ``dominick_tuna``: canned tuna at chain level, 7 brands, weekly; the file has 338 weeks
  numbered 1-398 with 9 gaps: the longest run without a gap is kept (weeks 1-211, 1989-09 …
  1993-09), since a missing week would read as a week without sales.
  Quantity = cans sold / 24 (cases of 24 × 6 oz cans ≈ 4.1 kg); unit price = exp(log price) × 24;
  ``promo`` = display activity over half the chain's stores (``NSALE >= 0.5``).

Dominick's week 1 starts on Thursday 1989-09-14; each week is dated by its first day. Prices
stay in dollars (only their ratio to the usual price matters to the demand stage). The farms,
crops and vehicles are the tiny test territory's (the demand stage does not use them); store
coordinates are placeholders around the tiny territory's hub.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TINY = REPO / "tests" / "data" / "tiny"
WEEK_ONE = pd.Timestamp("1989-09-14")
MASTER = ("crops", "crop_yields", "producers", "producer_crops", "vehicles")


def _week_date(week: pd.Series) -> pd.Series:
    return WEEK_ONE + pd.to_timedelta((week.astype(int) - 1) * 7, unit="D")


def _territory(out: Path, stores: list[str], brands: list[str], storage: str, kg: float) -> None:
    """Master tables: the tiny territory's farms and fleet, the dataset's stores and brands."""
    out.mkdir(parents=True, exist_ok=True)
    for name in MASTER:
        shutil.copy(TINY / f"{name}.csv", out / f"{name}.csv")
    sites = pd.read_csv(TINY / "sites.csv", dtype=str, keep_default_na=False)
    keep = sites.loc[sites["kind"].isin(["hub", "depot", "farm"])]
    rng = np.random.default_rng(0)
    shops = pd.DataFrame(
        {
            "site_id": stores,
            "name": [f"Store {s}" for s in stores],
            "kind": "epicerie_solidaire",
            "commune": "Chicago",
            "address": "",
            "lat": np.round(47.21 + rng.uniform(-0.05, 0.05, len(stores)), 4),
            "lon": np.round(-1.59 + rng.uniform(-0.05, 0.05, len(stores)), 4),
            "service_min": 15,
            "conventionne": "false",
            "deliveries_per_week": 1,
        }
    )
    pd.concat([keep, shops.astype(str)], ignore_index=True).fillna("").to_csv(
        out / "sites.csv", index=False
    )
    hours = pd.read_csv(TINY / "opening_hours.csv", dtype=str)
    hours.loc[hours["site_id"].isin(keep["site_id"])].to_csv(out / "opening_hours.csv", index=False)
    products = pd.read_csv(TINY / "products.csv", dtype=str)
    extra = pd.DataFrame(
        {
            "product_id": brands,
            "name": brands,
            "category": "grocery",
            "unit": "piece",
            "kg_per_unit": kg,
            "storage_class": storage,
            "shelf_life_days": 30 if storage == "chilled" else 700,
            "fair_price_eur_per_kg": 1.5,
            "retail_price_eur_per_unit": 2.5,
        }
    )
    pd.concat([products, extra.astype(str)], ignore_index=True).to_csv(
        out / "products.csv", index=False
    )


def convert_oj(data: dict, out: Path) -> int:
    yx = data["orangeJuice"]["yx"]
    brand = yx["brand"].astype(int)
    price = np.choose(brand - 1, [yx[f"price{b}"].to_numpy() for b in range(1, 12)])
    orders = pd.DataFrame(
        {
            "date": _week_date(yx["week"]).dt.date,
            "site_id": "dom_" + yx["store"].astype(int).astype(str).str.zfill(3),
            "product_id": "oj_" + brand.astype(str).str.zfill(2),
            "quantity": np.round(np.exp(yx["logmove"].to_numpy(dtype=float)) / 64, 2),
            "unit": "piece",
            "unit_price_eur": np.round(price * 64, 3),
            "promo": np.where(yx["deal"].astype(int) == 1, "oui", "non"),
        }
    )
    _territory(
        out,
        sorted(orders["site_id"].unique()),
        sorted(orders["product_id"].unique()),
        "chilled",
        1.95,
    )
    orders.to_csv(out / "orders.csv", index=False)
    (out / "SOURCE").write_text(
        "bayesm orangeJuice (Dominick's Finer Foods via the Kilts Center, U. Chicago Booth); "
        "Debian r-cran-bayesm, GPL-2+\n"
    )
    return len(orders)


def _longest_run(weeks: pd.Series) -> pd.Series:
    """Mask of the longest run of consecutive week numbers (a missing week is missing data,
    not a week without sales: the demand stage would read it as zero)."""
    w = weeks.astype(int).to_numpy()
    run = np.concatenate([[0], np.cumsum(np.diff(w) != 1)])
    longest = np.bincount(run).argmax()
    return pd.Series(run == longest, index=weeks.index)


def convert_tuna(data: dict, out: Path) -> int:
    tuna = data["tuna"]
    tuna = tuna.loc[_longest_run(tuna["WEEK"])]
    parts = []
    for b in range(1, 8):
        parts.append(
            pd.DataFrame(
                {
                    "date": _week_date(tuna["WEEK"]).dt.date,
                    "site_id": "dom_chain",
                    "product_id": f"tuna_{b}",
                    "quantity": np.round(tuna[f"MOVE{b}"].to_numpy(dtype=float) / 24, 2),
                    "unit": "piece",
                    "unit_price_eur": np.round(
                        np.exp(tuna[f"LPRICE{b}"].to_numpy(dtype=float)) * 24, 3
                    ),
                    "promo": np.where(tuna[f"NSALE{b}"].to_numpy(dtype=float) >= 0.5, "oui", "non"),
                }
            )
        )
    orders = pd.concat(parts, ignore_index=True)
    orders = orders.loc[orders["quantity"] > 0]
    _territory(out, ["dom_chain"], [f"tuna_{b}" for b in range(1, 8)], "ambient", 4.1)
    orders.to_csv(out / "orders.csv", index=False)
    (out / "SOURCE").write_text(
        "bayesm tuna (Dominick's Finer Foods via the Kilts Center, U. Chicago Booth); "
        "Debian r-cran-bayesm, GPL-2+\n"
    )
    return len(orders)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "bayesm", type=Path, help="folder the r-cran-bayesm package was unpacked to"
    )
    parser.add_argument("out", type=Path, help="folder the territories are written to")
    args = parser.parse_args(argv)
    import rdata

    found = sorted(args.bayesm.rglob("bayesm/data"))
    if not found:
        sys.exit(f"{args.bayesm}: no bayesm/data folder (unpack r-cran-bayesm there)")
    folder = found[0]
    oj = convert_oj(rdata.read_rda(folder / "orangeJuice.rda"), args.out / "dominick_oj")
    tuna = convert_tuna(rdata.read_rda(folder / "tuna.rda"), args.out / "dominick_tuna")
    print(f"dominick_oj: {oj:,} order lines; dominick_tuna: {tuna:,} order lines -> {args.out}")


if __name__ == "__main__":
    main()
