"""Orders and caisse payments in: units, rejects by kind, duplicates, flags, caisse demand.

The fixtures are the tiny territory (S1 épicerie conventionnée, S2 buying group not approved,
S3 social restaurant conventionné; carotte kg, laitue piece of 0.4 kg, lait litre of 1.03 kg)
and two hand-written activity files in ``tests/demand/data``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import demand
from core.territory import load_territory
from demand.caisse import flag_transactions, normalise_transactions, parse_rule

DATA = Path(__file__).parent / "data"
TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
ORDERS = DATA / "orders_mixed.csv"
TRANSACTIONS = DATA / "transactions_mixed.csv"


@pytest.fixture(scope="module")
def tiny_loaded():
    """The tiny territory, loaded once per module (each test takes a deep copy: ``tiny``)."""
    return load_territory(TINY)


@pytest.fixture
def tiny(tiny_loaded):
    return copy.deepcopy(tiny_loaded)


@pytest.fixture(scope="module")
def built_once(tiny_loaded):
    # absurd lines dropped, as before promotions were told apart (the default keeps them:
    # tests/demand/test_real_data.py)
    return demand.build_weekly_demand(
        copy.deepcopy(tiny_loaded),
        orders=ORDERS,
        transactions=TRANSACTIONS,
        params=demand.OrderCheckParams(drop_outliers=True),
    )


@pytest.fixture
def built(built_once):
    """``built_once``, deep-copied for each test (a test may change what it reads)."""
    return copy.deepcopy(built_once)


def _cell(weekly: pd.DataFrame, week: str, site: str, product: str) -> pd.Series:
    rows = weekly.loc[
        (weekly["week_start"] == pd.Timestamp(week))
        & (weekly["site_id"] == site)
        & (weekly["product_id"] == product)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("row", "column", "reason_part"),
    [
        (5, "quantity", "absurd quantity"),
        (9, "unit", "unit litre cannot be converted to kg for laitue"),
        (10, "product_id", "unknown product_id"),
        (11, "site_id", "unknown site_id"),
        (12, "unit", "expected one of"),
        (13, "quantity", ">= 0"),
        (14, "date", "expected a date"),
        (15, "date", "from 1900 to 2099"),
        (19, "date", "a typo in the year"),
    ],
)
def test_each_kind_of_bad_order_line_is_rejected_with_its_reason(built, row, column, reason_part):
    orders = built.rejects.loc[built.rejects["file"] == ORDERS.name]
    hit = orders.loc[orders["row"] == row]
    assert len(hit) == 1, f"row {row} not rejected once: {orders[['row', 'reason']]}"
    assert hit.iloc[0]["column"] == column
    assert reason_part in hit.iloc[0]["reason"]


def test_only_bad_order_lines_are_rejected(built):
    orders = built.rejects.loc[built.rejects["file"] == ORDERS.name]
    assert sorted(orders["row"]) == [5, 9, 10, 11, 12, 13, 14, 15, 19]


def test_exact_duplicate_lines_are_reported_and_dropped(built):
    dups = built.duplicates
    order_dups = dups.loc[dups["file"] == ORDERS.name]
    assert list(order_dups["row"]) == [17]
    assert list(order_dups["first_row"]) == [16]
    # 15 kg once, not 30
    assert _cell(built.weekly, "2025-01-06", "S2", "pomme")["orders_kg"] == 15
    tx_dups = dups.loc[dups["file"] == TRANSACTIONS.name]
    assert list(tx_dups["row"]) == [10]


def test_units_are_converted_through_the_catalogue(built):
    w = built.weekly
    assert _cell(w, "2025-01-06", "S1", "lait")["orders_kg"] == pytest.approx(30 * 1.03)
    assert _cell(w, "2025-01-06", "S1", "laitue")["orders_kg"] == pytest.approx(40 * 0.4)
    # ordered directly in kg
    assert _cell(w, "2025-01-13", "S1", "laitue")["orders_kg"] == pytest.approx(10)


def test_weekly_is_dense_over_the_order_weeks(built):
    w = built.weekly
    assert list(w.columns) == [
        "week_start",
        "site_id",
        "product_id",
        "kg",
        "orders_kg",
        "caisse_kg",
    ]
    weeks = sorted(w["week_start"].unique())
    # the absurd line of 2025-01-27 is rejected: the history ends the week of 2025-01-20
    assert [str(pd.Timestamp(x).date()) for x in weeks] == [
        "2025-01-06",
        "2025-01-13",
        "2025-01-20",
    ]
    assert (w["week_start"].dt.weekday == 0).all()
    assert len(w) == w.groupby(["site_id", "product_id"]).ngroups * len(weeks)
    assert _cell(w, "2025-01-13", "S1", "lait")["kg"] == 0


def test_caisse_spending_counts_only_where_the_shop_did_not_order(built):
    w = built.weekly
    # S3 ordered nothing the week of 2025-01-06 but took 80 SONANTES of caisse money: its
    # basket is its own orders (laitue at 1.90 € per 0.4 kg piece = 4.75 €/kg)
    cell = _cell(w, "2025-01-06", "S3", "laitue")
    assert cell["orders_kg"] == 0
    assert cell["caisse_kg"] == pytest.approx(80 / 4.75)
    assert cell["kg"] == pytest.approx(80 / 4.75)
    # S1 ordered that week: its orders are the demand; the caisse part is reported only.
    # S1's basket: carotte 60 kg × 2.5 = 150 €, lait 30 × 1.6 = 48 €, laitue 76 + 47.5 €
    cell = _cell(w, "2025-01-06", "S1", "carotte")
    assert cell["kg"] == 20
    assert cell["caisse_kg"] == pytest.approx(35.5 * 150 / 321.5 / 2.5)
    # S2 is not approved: its 12 € payment is no demand
    assert w.loc[w["site_id"] == "S2", "caisse_kg"].sum() == 0
    share = built.caisse_share.set_index("site_id")
    # S3's only caisse week is a caisse-only week; S1's demand is mostly not caisse money
    assert share.loc["S3", "caisse_share"] == pytest.approx(1.0)
    assert 0 < share.loc["S1", "caisse_share"] < 1
    assert "S2" not in share.index


def test_bad_payments_are_rejected(built):
    tx = built.rejects.loc[built.rejects["file"] == TRANSACTIONS.name].set_index("row")
    assert sorted(tx.index) == [7, 8]
    assert "unknown household_id" in tx.loc[7, "reason"]
    assert tx.loc[8, "column"] == "currency"


def test_payments_are_flagged(built):
    flags = built.flags.set_index("row")
    assert flags.loc[4, "flag"] == "not_approved"
    assert flags.loc[6, "flag"] == "over_allocation"
    assert "115.50" in flags.loc[6, "detail"]
    assert flags.loc[9, "flag"] == "not_enrolled"
    assert sorted(flags.index) == [4, 6, 9]


def test_over_allocation_flags_the_crossing_payment_and_later_ones(tiny):
    rule = parse_rule("100+50")
    tx = pd.DataFrame(
        {
            "row": [2, 3, 4, 5],
            "timestamp": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-03", "2025-04-01"]),
            "household_id": ["H1"] * 4,
            "site_id": ["S1"] * 4,
            "amount": [60.0, 50.0, 5.0, 100.0],
            "currency": ["EUR"] * 4,
        }
    )
    tx, rejects = normalise_transactions(tx, rule=rule)
    assert rejects.empty
    flags = flag_transactions(tx, tiny.households, tiny.sites, rule)
    assert list(flags["row"]) == [3, 4]  # 110 € then 115 € in March; April's 100 € is fine


def test_orders_given_as_a_frame_are_checked_too(tiny):
    frame = tiny.orders.copy()
    frame.loc[len(frame)] = frame.iloc[0]
    result = demand.build_weekly_demand(tiny, orders=frame)
    assert len(result.duplicates) == 1


def test_missing_orders_file_is_an_input_error(tiny, tmp_path):
    from core.errors import InputError

    with pytest.raises(InputError, match="file not found"):
        demand.build_weekly_demand(tiny, orders=tmp_path / "nope.csv")


def test_excel_exports_are_read_like_csv(tiny, tmp_path):
    path = tmp_path / "orders.xlsx"
    pd.read_csv(ORDERS, dtype=str, keep_default_na=False).to_excel(path, index=False)
    result = demand.build_weekly_demand(tiny, orders=path)
    rejected = result.rejects.loc[result.rejects["file"] == "orders.xlsx", "row"]
    assert sorted(rejected) == [5, 9, 10, 11, 12, 13, 14, 15, 19]
    assert list(result.duplicates.loc[result.duplicates["file"] == "orders.xlsx", "row"]) == [17]


def test_a_new_export_is_checked_against_the_territory_history(tiny, tmp_path):
    # one line alone has no history of its own; the territory's orders say S1 takes ~21 kg
    path = tmp_path / "week.csv"
    path.write_text(
        "date,site_id,product_id,quantity,unit,unit_price_eur\n"
        "2025-02-11,S1,carotte,1500,kg,2.5\n"
        "2025-02-11,S1,lait,25,litre,1.6\n"
    )
    result = demand.build_weekly_demand(tiny, orders=path)
    assert list(result.rejects["row"]) == [2]
    assert "absurd" in result.rejects.iloc[0]["reason"]


def test_without_a_rule_file_payments_still_become_demand(tiny_copy):
    (tiny_copy / "caisse_rule.csv").unlink()
    territory = load_territory(tiny_copy)
    result = demand.build_weekly_demand(territory, orders=ORDERS, transactions=TRANSACTIONS)
    assert set(result.flags["flag"]) == {"not_approved", "not_enrolled"}
    # SONANTES is not known without the rule: that payment is rejected
    assert 3 in set(result.rejects.loc[result.rejects["column"] == "currency", "row"])
