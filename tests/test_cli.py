"""The ``vivres`` command line end to end: help, the demo, and bad input → exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from core.csvio import read_csv_any
from core.territory import SAMPLE_DIR
from routing import REASONS


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("demo", "bench"):
        assert command in out


@pytest.mark.slow  # a new interpreter; the usage-error test below runs the installed command too
def test_console_script_is_installed():
    exe = shutil.which("vivres")
    if exe is None:
        pytest.skip("vivres is not on PATH (package not installed with pip)")
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "demo" in done.stdout


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    if not (SAMPLE_DIR / "sites.csv").exists():
        pytest.skip("data/sample has not been generated")
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, target)
    return target


def corrupt(folder: Path, table: str, line: int, column: str, value: str | None) -> None:
    path = folder / f"{table}.csv"
    frame = read_csv_any(path, dtype=str, keep_default_na=False)
    if value is None:
        frame = frame.drop(columns=column)
    else:
        frame.loc[line - 2, column] = value
    frame.to_csv(path, index=False)


# each case loads the whole sample (127,000 order lines): one stays in the fast lane; the
# other messages are checked on the tiny territory there (tests/core/test_territory.py) and
# their French in tests/web/test_web_fmt.py
_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    ("table", "line", "column", "value", "lang", "expected"),
    [
        pytest.param(
            "orders",
            1,
            "quantity",
            None,
            "fr",
            "orders.csv, ligne 1, champ « quantity » : colonne obligatoire absente",
            marks=_SLOW,
        ),
        (
            "orders",
            57,
            "quantity",
            "twelve",
            "fr",
            "orders.csv, ligne 57, champ « quantity » : attendu : un nombre ; reçu « twelve »",
        ),
        pytest.param(
            "orders",
            9,
            "site_id",
            "NOWHERE",
            "fr",
            "orders.csv, ligne 9, champ « site_id » : site_id inconnu (absent de la table sites)",
            marks=_SLOW,
        ),
        pytest.param(
            "orders",
            57,
            "quantity",
            "twelve",
            "en",
            "orders.csv row 57, column 'quantity'",
            marks=_SLOW,
        ),
        pytest.param(
            "vehicles",
            2,
            "capacity_kg",
            "heavy",
            "en",
            "vehicles.csv row 2, column 'capacity_kg'",
            marks=_SLOW,
        ),
    ],
)
def test_corrupted_sample_exits_2_with_one_line(
    sample_copy, tmp_path, capsys, table, line, column, value, lang, expected
):
    corrupt(sample_copy, table, line, column, value)
    argv = ["demo", "--data", str(sample_copy), "--out", str(tmp_path / "o"), "--lang", lang]
    code, _, err = run(argv, capsys)
    assert code == 2
    lines = [x for x in err.strip().splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("erreur : " if lang == "fr" else "error: ")
    assert expected in lines[0]
    assert "Traceback" not in err


def test_missing_territory_folder_exits_2(tmp_path, capsys):
    code, _, err = run(["demo", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "Traceback" not in err


@pytest.mark.slow
def test_demo_runs_the_weekly_job_on_the_sample(tmp_path):
    if not (SAMPLE_DIR / "sites.csv").exists():
        pytest.skip("data/sample has not been generated")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import entry_point; entry_point()",
            "demo",
            "--out",
            str(out),
            "--plan-work",
            "0.1",
            "--route-time-limit",
            "3",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "<DayStatus" not in done.stdout  # figures as people read them, not Python reprs

    sites = json.loads((out / "sites.geojson").read_text())
    assert len(sites["features"]) == 72

    forecast = read_csv_any(out / "demand" / "forecast.csv")
    assert {"week_start", "site_id", "product_id", "kg", "low", "high"} <= set(forecast)
    assert forecast["week_start"].nunique() == 52
    assert (forecast["low"] <= forecast["kg"] + 1e-9).all()
    assert (forecast["kg"] <= forecast["high"] + 1e-9).all()
    ledger = read_csv_any(out / "demand" / "caisse_ledger.csv")
    assert len(ledger) == 4  # the sample's caisses start in September 2025 (issue 15)

    routes = out / "routes"
    kpis = json.loads((routes / "kpis.json").read_text())
    assert kpis["method"] == "haversine_fallback"  # no OSM file: flagged
    assert kpis["stops"] > 0
    stops = read_csv_any(routes / "stops.csv")
    unserved = read_csv_any(routes / "unserved.csv")
    assert unserved["reason"].isin(REASONS).all()
    served_sites = set(stops["site_id"]) | set(unserved["site_id"])
    schedule = read_csv_any(routes / "schedule.csv")
    assert set(schedule["site_id"]) <= served_sites  # every scheduled stop is served or reported
    assert list((routes / "sheets").glob("*.html"))
    road = json.loads((routes / "routes.geojson").read_text())
    assert road["features"]
    assert "tournées" in done.stdout and "demande" in done.stdout  # French by default
    # the fallback is said once, in French, not as Python's warning with a file and line
    assert "pas de réseau routier" in done.stdout
    assert "FallbackWarning" not in done.stderr and "travel_matrix(" not in done.stderr


def test_bench_robustness_is_a_command():
    assert main(["bench", "robustness", "--help"]) == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["nosuch"], "erreur : commande inconnue « nosuch » (voir vivres --help)"),
        (
            ["plan", "--time-limit", "abc"],
            "valeur invalide pour « --time-limit » : un nombre est attendu",
        ),
        (["routes", "--week"], "l'option « --week » attend une valeur"),
        (["caisse", "size", "--budget", "1"], "option obligatoire absente : « --rule »"),
        (["plan", "--no-such-option"], "option inconnue : --no-such-option"),
        (["plan", "--lang", "de"], "la langue doit être l'une des valeurs fr, en"),
        (["nosuch", "--lang", "en"], "error: No such command 'nosuch'"),
        (["plan", "--time-limit", "abc", "--lang=en"], "Invalid value for '--time-limit'"),
        (["routes", "--lang", "en", "--week"], "requires an argument"),
        (["plan", "--no-such-option", "--lang", "en"], "No such option: --no-such-option"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, says, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_usage_error_of_the_installed_command_has_no_traceback():
    exe = shutil.which("vivres")
    if exe is None:
        pytest.skip("vivres is not on PATH (package not installed with pip)")
    done = subprocess.run([exe, "nosuch"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def _break(path: Path, row: int, column: str, value: str) -> None:
    frame = read_csv_any(path, dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value  # file line = frame index + 2
    frame.to_csv(path, index=False)


def test_check_names_every_bad_cell_of_every_file_in_one_pass(tmp_path, capsys):
    folder = tmp_path / "terr"
    shutil.copytree(Path(__file__).resolve().parent / "data" / "tiny", folder)
    bad = [
        ("sites.csv", 2, "lat", "abc"),
        ("sites.csv", 3, "lon", "999"),
        ("products.csv", 2, "category", "wrong"),
        ("products.csv", 3, "kg_per_unit", "-1"),
        ("vehicles.csv", 2, "capacity_kg", "lots"),
        ("vehicles.csv", 3, "shift_start", "25:00"),
        ("crops.csv", 2, "land_type", "roof"),
        ("crops.csv", 3, "bed_m2", "x"),
        ("orders.csv", 2, "quantity", "-5"),
        ("orders.csv", 3, "date", "yesterday"),
    ]
    for file, row, column, value in bad:
        _break(folder / file, row, column, value)
    errors = tmp_path / "errors.csv"
    code, _, err = run(["check", "--data", str(folder), "--errors", str(errors)], capsys)
    assert code == 2 and "Traceback" not in err
    for file, row, column, _ in bad:
        assert f"erreur : {file}, ligne {row}, champ « {column} »" in err, (file, row, column)
    assert "10 problème(s) dans 5 fichier(s), tous dans" in " ".join(err.split())
    listed = read_csv_any(errors)
    assert len(listed) == 10 and listed["file"].is_monotonic_increasing
    code, _, err = run(["check", "--data", str(folder), "--lang", "en"], capsys)
    assert code == 2
    for file, row, column, _ in bad:
        assert f"error: {file} row {row}, column '{column}'" in err, (file, row, column)
    assert "10 problem(s) in 5 file(s)" in err


def test_check_keep_valid_names_the_rejected_rows(tmp_path, capsys):
    folder = tmp_path / "terr"
    shutil.copytree(Path(__file__).resolve().parent / "data" / "tiny", folder)
    _break(folder / "orders.csv", 3, "quantity", "-5")
    code, out, _ = run(["check", "--data", str(folder), "--keep-valid"], capsys)
    assert code == 0
    assert "rejetée : orders.csv, ligne 3, champ « quantity »" in out
    assert "le territoire est valide" in out
    code, out, _ = run(["check", "--data", str(folder), "--keep-valid", "--lang", "en"], capsys)
    assert "rejected: orders.csv row 3, column 'quantity'" in out
    assert "territory is valid" in out


def test_an_output_folder_under_a_file_exits_2_naming_it(tmp_path, capsys, tiny_dir):
    (tmp_path / "afile").write_text("", encoding="utf-8")
    out = tmp_path / "afile" / "sub"
    code, _, err = run(["demand", "build", "--data", str(tiny_dir), "--out", str(out)], capsys)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"impossible d'utiliser « {out} »" in " ".join(err.split())


def test_a_twin_the_system_refuses_exits_2_naming_it(tmp_path, capsys, tiny_dir):
    """The .xlsx twin cannot be written (here a folder stands in its place; for a user, the
    sheet open in Excel): exit 2 naming that file, in English with --lang en."""
    (tmp_path / "rejects.xlsx").mkdir()
    argv = ["demand", "build", "--data", str(tiny_dir), "--out", str(tmp_path), "--lang", "en"]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"cannot use {tmp_path / 'rejects.xlsx'}" in " ".join(err.split())


def test_a_refused_file_hints_at_the_program_holding_it():
    from api.cli import _os_error_line

    refused = PermissionError(13, "Permission denied", "/out/contrat_P1.xlsx")
    assert _os_error_line(refused, "fr") == (
        "impossible d'utiliser « /out/contrat_P1.xlsx » : Permission denied (est-il ouvert "
        "dans un autre programme, Excel par exemple ?)"
    )
    assert "open in another program" in _os_error_line(refused, "en")
    assert "Excel" not in _os_error_line(FileNotFoundError(2, "No such file", "x"), "en")
