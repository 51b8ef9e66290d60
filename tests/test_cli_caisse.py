"""``vivres caisse``: report, size, credits, approve on a territory with two caisses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_cli import run

from core.csvio import read_csv_any

TINY = Path(__file__).resolve().parent / "data" / "tiny"


@pytest.fixture
def two_caisses(tmp_path) -> Path:
    folder = tmp_path / "terr"
    shutil.copytree(TINY, folder)
    (folder / "caisse_rule.csv").unlink()
    (folder / "caisses.csv").write_text(
        "caisse_id,name,area,currency,start,first_person_eur,additional_person_eur,"
        "min_contribution_per_person_eur,unspent,approval_threshold_pct\n"
        "nantes,CCA urbaine,Nantes,SONANTES,2025-01-01,100,50,5,carry,60\n"
        "retz,CCA Pays de Retz,Pays de Retz,EUR,2025-02-01,80,40,2,expire,50\n",
        encoding="utf-8",
    )
    households = read_csv_any(folder / "households.csv")
    households["caisse_id"] = ["nantes", "nantes", "retz"][: len(households)]
    households.to_csv(folder / "households.csv", index=False)
    (folder / "funders.csv").write_text(
        "funder,caisse_id,month,amount_eur\nCCAS de Nantes,nantes,2025-01-01,36500\n",
        encoding="utf-8",
    )
    (folder / "caisse_criteria.csv").write_text(
        "caisse_id,criterion_id,label,weight,max_points,eliminatory,min_points\n"
        "nantes,local,Approvisionnement local,3,4,false,0\n"
        "nantes,prix,Prix justes aux producteurs,3,4,true,2\n"
        "nantes,accueil,Accueil,2,2,false,0\n",
        encoding="utf-8",
    )
    (folder / "shop_assessments.csv").write_text(
        "caisse_id,site_id,criterion_id,points,assessor,assessed_on\n"
        "nantes,S1,local,4,comité,2025-01-05\n"
        "nantes,S1,prix,2,comité,2025-01-05\n"
        "nantes,S1,accueil,1,comité,2025-01-05\n"
        "nantes,S3,local,1,comité,2025-01-05\n"
        "nantes,S3,prix,1,comité,2025-01-05\n"
        "nantes,S3,accueil,2,comité,2025-01-05\n",
        encoding="utf-8",
    )
    return folder


def test_size_reproduces_montpellier(tmp_path, capsys):
    out = tmp_path / "size.json"
    code, stdout, _ = run(
        [
            "caisse",
            "size",
            "--budget",
            "240000",
            "--rule",
            "100/person",
            "--months",
            "12",
            "--json",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stdout
    assert json.loads(out.read_text())["people"] == 200
    assert "200 personnes" in stdout


def test_size_needs_a_mix_for_a_rule_by_household_size(capsys):
    code, _, err = run(
        ["caisse", "size", "--budget", "36500", "--rule", "100+50", "--months", "12"], capsys
    )
    assert code == 2 and "depends on the household size" in err


def test_report_balances_each_caisse_and_says_which_shops_the_grid_approves(
    two_caisses, tmp_path, capsys
):
    out = tmp_path / "out"
    code, stdout, _ = run(
        ["caisse", "report", "--data", str(two_caisses), "--out", str(out)], capsys
    )
    assert code == 0, stdout
    said = " ".join(stdout.split())
    assert "crédit non dépensé : gardé par le ménage" in said
    assert "grille : 1 commerce(s) conventionné(s) sur 2" in said
    code, stdout, _ = run(
        ["caisse", "report", "--data", str(two_caisses), "--out", str(out), "--lang", "en"],
        capsys,
    )
    said = " ".join(stdout.split())
    assert "unspent credit: carry" in said
    assert "grid: 1 shop(s) approved of 2" in said and "ménage" not in said
    book = read_csv_any(out / "caisse_balance.csv")
    assert set(book["caisse_id"]) == {"nantes", "retz"}
    nantes = book.loc[book["caisse_id"] == "nantes"].iloc[0]
    # January: 36,500 co-funding + 80 contributions − (100 + 200) credited
    assert nantes["closing_cash_eur"] == pytest.approx(36_500 + 80 - 300)
    grid = read_csv_any(out / "caisse_grid.csv").set_index("site_id")
    assert grid.loc["S1", "approved"] and not grid.loc["S3", "approved"]
    assert "Prix justes aux producteurs: 1/4 points, 2 needed" in grid.loc["S3", "why"]
    contributions = read_csv_any(out / "caisse_contributions.csv").set_index("household_id")
    assert contributions["under_minimum"].sum() == 0


def test_credits_file_for_the_payment_operator(two_caisses, tmp_path, capsys):
    out = tmp_path / "credits.csv"
    code, stdout, _ = run(
        [
            "caisse",
            "credits",
            "--data",
            str(two_caisses),
            "--caisse",
            "nantes",
            "--month",
            "2025-02",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stdout
    credits = read_csv_any(out)
    assert list(credits.columns) == ["household_id", "amount", "month", "currency"]
    twin = pd.read_excel(out.with_suffix(".xlsx"))
    assert twin["amount"].tolist() == credits["amount"].tolist()
    assert twin["household_id"].tolist() == credits["household_id"].tolist()
    assert credits["currency"].unique().tolist() == ["SONANTES"]
    code, _, err = run(
        [
            "caisse",
            "credits",
            "--data",
            str(two_caisses),
            "--caisse",
            "lyon",
            "--month",
            "2025-02",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 2 and "erreur : Caisse inconnue « lyon » ; caisses connues : nantes, retz" in err


def test_approve_lists_the_points_a_shop_needs(two_caisses, capsys):
    code, stdout, _ = run(
        ["caisse", "approve", "--data", str(two_caisses), "--caisse", "nantes", "--site", "S3"],
        capsys,
    )
    assert code == 0, stdout
    assert "Prix justes aux producteurs: 1 → 2 points" in stdout


def test_a_household_without_its_caisse_is_refused_when_there_are_several(two_caisses, capsys):
    households = read_csv_any(two_caisses / "households.csv")
    households.loc[0, "caisse_id"] = None
    households.to_csv(two_caisses / "households.csv", index=False)
    code, _, err = run(["check", "--data", str(two_caisses)], capsys)
    assert code == 2
    assert "households.csv, ligne 2, champ « caisse_id »" in err
    assert "le territoire en a plusieurs" in err


def test_an_assessment_of_an_unknown_criterion_names_its_row(two_caisses, capsys):
    path = two_caisses / "shop_assessments.csv"
    path.write_text(path.read_text() + "nantes,S1,bio,3,comité,2025-01-05\n", encoding="utf-8")
    code, _, err = run(["check", "--data", str(two_caisses)], capsys)
    assert code == 2
    assert "shop_assessments.csv, ligne 8, champ « criterion_id »" in err


def test_check_names_households_under_their_caisse_minimum(two_caisses, capsys):
    households = read_csv_any(two_caisses / "households.csv")
    households.loc[1, "monthly_contribution_eur"] = 10  # 3 people × 5 € minimum = 15 €
    households.to_csv(two_caisses / "households.csv", index=False)
    code, stdout, _ = run(["check", "--data", str(two_caisses)], capsys)
    assert code == 0
    assert "1 foyer(s) cotisent sous le minimum par personne de leur caisse" in stdout
    assert "H2 (households.csv, ligne 3 : 10,00 € < 15,00 €)" in stdout
    code, stdout, _ = run(["check", "--data", str(two_caisses), "--lang", "en"], capsys)
    assert code == 0
    assert "1 household(s) contribute under their caisse's minimum" in stdout
    assert "H2 (households.csv row 3: 10.00 € < 15.00 €)" in stdout


def test_report_writes_a_printable_french_page_per_table(two_caisses, tmp_path, capsys):
    households = pd.read_csv(two_caisses / "households.csv")
    households.loc[1, "monthly_contribution_eur"] = 10  # 3 people × 5 € minimum = 15 €
    households.to_csv(two_caisses / "households.csv", index=False)
    out = tmp_path / "out"
    code, stdout, _ = run(
        ["caisse", "report", "--data", str(two_caisses), "--out", str(out)], capsys
    )
    assert code == 0, stdout
    page = (out / "caisse_report.html").read_text(encoding="utf-8")
    assert "size: A4" in page and "@media print" in page and 'lang="fr"' in page
    assert page.count('<section class="page">') == 5  # 2 balances, contributions, grid, sizing
    assert "CCA urbaine — trésorerie mois par mois" in page
    assert "CCA Pays de Retz — trésorerie mois par mois" in page
    assert "H2 (10 € &lt; 15 €)" in page  # the household under its minimum, by name
    # the refused shop and what would make it approvable: prix 1 → 2 (eliminatory), then
    # points where they weigh most until 60 %
    assert "Prix justes aux producteurs: 1 → 2" in page
    assert "Prix justes aux producteurs: 1/4 points, 2 requis (éliminatoire)" in page
    assert "36\u202f500,00" in page  # the CCAS's co-funding, to the cent, French style
    assert (out / "caisse_grid.xlsx").exists()


@pytest.mark.slow
def test_check_names_the_sample_households_under_the_minimum(capsys):
    code, stdout, _ = run(["check"], capsys)
    assert code == 0
    assert "4 foyer(s) cotisent sous le minimum par personne de leur caisse" in stdout
    assert "hh_00091 (households.csv, ligne 92 : 3,00 € < 5,00 €)" in stdout


def test_size_credits_and_approve_speak_english_when_asked(tmp_path, capsys):
    argv = ["caisse", "size", "--budget", "36500", "--rule", "100/person", "--months", "12"]
    code, stdout, _ = run([*argv, "--lang", "en"], capsys)
    assert code == 0 and "30 people" in stdout and "a month" in " ".join(stdout.split())
    out = tmp_path / "credits.csv"
    argv = ["caisse", "credits", "--caisse", "cca_nantes", "--month", "2025-10", "--out", str(out)]
    code, stdout, _ = run([*argv, "--lang", "en"], capsys)
    assert code == 0 and "(and credits.xlsx)" in " ".join(stdout.split())
    code, stdout, _ = run(argv, capsys)
    assert code == 0 and "(et credits.xlsx)" in " ".join(stdout.split())


def test_the_printed_report_is_english_when_asked(two_caisses, tmp_path, capsys):
    out = tmp_path / "en"
    argv = ["caisse", "report", "--data", str(two_caisses), "--out", str(out), "--lang", "en"]
    code, stdout, _ = run(argv, capsys)
    assert code == 0, stdout
    page = (out / "caisse_report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "cash month by month" in page
    assert "Contributions and solidarity transfer" in page and "Sizing" in page
    assert "trésorerie" not in page and "cotisations" not in page
