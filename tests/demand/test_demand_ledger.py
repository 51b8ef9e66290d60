"""The caisse ledger on a 3-household caisse over 2 months, checked by hand.

Households (rule 100 € first person + 50 € each further person):

- A: 1 person, contributes 20 €/month, joined 2025-01-01 → allocation 100 €, from January;
- B: 3 persons, contributes 60 €/month, joined 2024-12-15 → allocation 200 €, from January;
- C: 2 persons, contributes 40 €/month, joined 2025-02-05 (before the 10th) → 150 €, from
  February.

January: A and B. households 2, members 4, contributions 20 + 60 = 80, allocations
100 + 200 = 300, spent 35.50 + 70 + 80 + 110.25 = 295.75, unspent 4.25, cofinancing
300 − 80 = 220, cash gap 295.75 − 80 = 215.75.

February: A, B and C. households 3, members 6, contributions 120, allocations 450, spent
120 + 45 = 165, unspent 285, cofinancing 330, cash gap 45.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import InputError
from demand import CaisseRule, WhatIf, caisse_ledger, parse_rule

HOUSEHOLDS = pd.DataFrame(
    {
        "household_id": ["A", "B", "C"],
        "size": [1, 3, 2],
        "monthly_contribution_eur": [20.0, 60.0, 40.0],
        "joined": pd.to_datetime(["2025-01-01", "2024-12-15", "2025-02-05"]),
    }
)
TRANSACTIONS = pd.DataFrame(
    {
        "timestamp": pd.to_datetime(
            [
                "2025-01-03 10:00",
                "2025-01-20 11:00",
                "2025-01-08 09:30",
                "2025-01-28 16:00",
                "2025-02-10 10:00",
                "2025-02-11 12:00",
            ]
        ),
        "household_id": ["A", "A", "B", "B", "A", "C"],
        "site_id": ["S1", "S1", "S3", "S1", "S1", "S2"],
        "amount": [35.50, 70.0, 80.0, 110.25, 120.0, 45.0],
    }
)
RULE = CaisseRule(name="nantes", first_person_eur=100, additional_person_eur=50)


def test_ledger_reproduces_the_hand_arithmetic():
    ledger = caisse_ledger(HOUSEHOLDS, TRANSACTIONS, RULE).set_index("month")
    assert list(ledger.index) == ["2025-01", "2025-02"]
    expected = {
        "2025-01": dict(
            households=2,
            members=4,
            contributions_eur=80,
            allocations_eur=300,
            spent_eur=295.75,
            unspent_eur=4.25,
            cofinancing_eur=220,
            cash_gap_eur=215.75,
        ),
        "2025-02": dict(
            households=3,
            members=6,
            contributions_eur=120,
            allocations_eur=450,
            spent_eur=165,
            unspent_eur=285,
            cofinancing_eur=330,
            cash_gap_eur=45,
        ),
    }
    for month, figures in expected.items():
        for column, value in figures.items():
            assert ledger.loc[month, column] == pytest.approx(value), (month, column)
    # what balances: contributions + cofinancing = allocations = spent + unspent
    assert (
        ledger["contributions_eur"] + ledger["cofinancing_eur"] == ledger["allocations_eur"]
    ).all()
    assert (ledger["spent_eur"] + ledger["unspent_eur"]).tolist() == pytest.approx(
        ledger["allocations_eur"].tolist()
    )


def test_spending_at_non_approved_shops_is_reported():
    sites = pd.DataFrame({"site_id": ["S1", "S2", "S3"], "conventionne": [True, False, True]})
    ledger = caisse_ledger(HOUSEHOLDS, TRANSACTIONS, RULE, sites=sites).set_index("month")
    assert ledger.loc["2025-01", "flagged_eur"] == 0
    assert ledger.loc["2025-02", "flagged_eur"] == 45


def test_household_joining_after_the_cutoff_starts_next_month():
    late = HOUSEHOLDS.assign(joined=pd.to_datetime(["2025-01-01", "2024-12-15", "2025-02-11"]))
    ledger = caisse_ledger(late, TRANSACTIONS, RULE).set_index("month")
    assert ledger.loc["2025-02", "households"] == 2
    assert ledger.loc["2025-02", "allocations_eur"] == 300


def test_months_can_be_chosen():
    ledger = caisse_ledger(HOUSEHOLDS, TRANSACTIONS, RULE, months=["2025-02-01", "2025-03-15"])
    assert list(ledger["month"]) == ["2025-02", "2025-03"]
    march = ledger.set_index("month").loc["2025-03"]
    assert march["spent_eur"] == 0
    assert march["allocations_eur"] == 450


@pytest.mark.parametrize(
    ("text", "first", "further"),
    [
        ("100+50", 100, 50),
        ("150/person", 150, 150),
        ("100 / personne", 100, 100),
        ("92,5+40", 92.5, 40),
    ],
)
def test_rules_are_data(text, first, further):
    rule = parse_rule(text)
    assert (rule.first_person_eur, rule.additional_person_eur) == (first, further)


def test_rule_from_the_caisse_rule_table():
    table = pd.DataFrame(
        {
            "name": ["montpellier"],
            "first_person_eur": [100.0],
            "additional_person_eur": [100.0],
            "local_currency": [""],
        }
    )
    assert parse_rule(table).allocation_eur([1, 3]).tolist() == [100, 300]


@pytest.mark.parametrize("text", ["abc", "100-50", "/person", ""])
def test_bad_rule_text_is_an_input_error(text):
    with pytest.raises(InputError, match="--rule"):
        parse_rule(text)


def test_what_if_another_rule():
    # 150 € per person: January 4 × 150 = 600, February 6 × 150 = 900
    ledger = caisse_ledger(
        HOUSEHOLDS, TRANSACTIONS, RULE, what_if=WhatIf(rule="150/person")
    ).set_index("month")
    assert ledger["whatif_allocations_eur"].tolist() == [600, 900]
    assert ledger["whatif_cofinancing_eur"].tolist() == [520, 780]
    assert ledger["whatif_extra_cofinancing_eur"].tolist() == [300, 450]
    # spending follows the allocation at today's rate: 295.75 / 300 of 600
    assert ledger.loc["2025-01", "whatif_spent_eur"] == pytest.approx(591.5)


def test_what_if_more_households_and_contributions():
    # one more household copies A (1 person, 20 €) and is there from the first month
    ledger = caisse_ledger(
        HOUSEHOLDS, TRANSACTIONS, RULE, what_if={"extra_households": 1, "contribution_factor": 1.5}
    )
    jan = ledger.set_index("month").loc["2025-01"]
    assert jan["whatif_households"] == 3
    assert jan["whatif_allocations_eur"] == 400
    assert jan["whatif_contributions_eur"] == 150  # (20 + 60 + 20) × 1.5
    assert jan["whatif_cofinancing_eur"] == 250
    assert jan["whatif_extra_cofinancing_eur"] == 30
    flat = caisse_ledger(HOUSEHOLDS, TRANSACTIONS, RULE, what_if={"contribution_eur": 10})
    assert flat.set_index("month").loc["2025-02", "whatif_contributions_eur"] == 30


def test_negative_what_if_is_an_input_error():
    with pytest.raises(InputError):
        WhatIf(extra_households=-1)
