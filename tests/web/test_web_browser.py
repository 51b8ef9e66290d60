"""The pages in a real browser: Debian's Chromium driven by Playwright against a live
``vivres serve`` on 127.0.0.1, every other request blocked and counted (must be 0), axe-core
on every page (no serious or critical violation), at 360 px wide, screenshots as artefacts
(``tmp/artefacts/web``, or ``VIVRES_TEST_ARTEFACTS``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from web_helpers import BAD_ORDERS
from web_live import CHROMIUM_ARGS, Guard, chromium_path, guarded_context, live_server, run_axe

from api import jobs
from api.store import territories as store_t
from core.csvio import read_csv_any

playwright_api = pytest.importorskip("playwright.sync_api")
if chromium_path() is None:
    pytest.skip("no chromium (apt-get install chromium)", allow_module_level=True)

ARTEFACTS = Path(
    os.environ.get("VIVRES_TEST_ARTEFACTS")
    or Path(__file__).resolve().parents[2] / "tmp" / "artefacts" / "web"
)
PHONE = {"width": 360, "height": 740}
#: a live server and Chromium per module: the slow lane (CI runs it; the fast lane skips it)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(web_store, solved, tokens):
    with live_server(str(web_store.engine.url.render_as_string(hide_password=False))) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def guard():
    g = Guard()
    yield g
    assert g.blocked == [], f"requests left 127.0.0.1: {g.blocked}"
    csp = [e for e in g.console_errors if "Content Security Policy" in e]
    assert csp == [], csp


@pytest.fixture
def page(browser, guard):
    context = guarded_context(browser, guard, viewport=PHONE)
    yield context.new_page()
    context.close()


def sign_in(page, server: str, token: str) -> None:
    page.goto(f"{server}/connexion")
    page.get_by_label("Clé d'accès").fill(token)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def check_page(page, name: str) -> None:
    """No serious/critical axe violation, no horizontal scroll at 360 px; a screenshot."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, name
    violations = run_axe(page)
    shot(page, name)
    assert violations == [], f"{name}: {json.dumps(violations, ensure_ascii=False)}"


PAGES = {
    "planner": [
        "/t/tiny/",
        "/t/tiny/demande",
        "/t/tiny/plan",
        "/t/tiny/caisse",
        "/t/tiny/scenarios",
        "/t/tiny/sensibilite",
        "/t/tiny/mutualisation",
        "/t/tiny/import",
        "/t/tiny/commandes",
        "/t/tiny/tournees",
        "/t/tiny/tournees/{routes}",
        "/t/tiny/tournees/{routes}/imprimer",
        "/t/tiny/producteurs/P2/engagements",
    ],
    "logistics": [
        "/t/tiny/",
        "/t/tiny/commandes",
        "/t/tiny/semaine",
        "/t/tiny/semaine/{week}",
        "/t/tiny/tournees",
        "/t/tiny/tournees/{routes}",
        "/t/tiny/tournees/{week}/imprimer",
    ],
    "producer": [
        "/t/tiny/producteurs/P1/engagements",
        "/t/tiny/producteurs/P1/disponibilites?semaine=2025-01-06",
    ],
}


@pytest.mark.parametrize(
    "role",
    list(PAGES),
)  # the planner's ten pages take ≈ 7 s
def test_each_role_signs_in_and_its_pages_pass_axe_at_360_px(page, server, tokens, solved, role):
    page.goto(server + "/")
    assert page.url.endswith("/connexion")
    check_page(page, "connexion")
    sign_in(page, server, tokens[role])
    menu = page.get_by_role("navigation", name="Menu principal")
    assert menu.is_visible()
    for url in PAGES[role]:
        response = page.goto(server + url.format(**solved))
        assert response.status == 200, url
        if "/tournees/" in url and "imprimer" not in url:
            page.wait_for_selector("#map[data-ready='1']")
        name = url.format(routes="tournees", week="semaine").replace("/", "_").replace("?", "_")
        check_page(page, f"{role}{name}")


def test_a_producer_opening_another_producers_page_gets_404(page, server, tokens):
    sign_in(page, server, tokens["producer"])
    assert page.url.endswith("/t/tiny/producteurs/P1/engagements")
    response = page.goto(f"{server}/t/tiny/producteurs/P2/engagements")
    assert response.status == 404 and "Les Jardins de Vue" not in page.content()
    shot(page, "producer_other_404")


def test_sign_in_and_out_with_the_keyboard_only(page, server, tokens):
    page.goto(f"{server}/connexion")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"
    page.keyboard.type(tokens["logistics"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/t/tiny/$"))
    assert tokens["logistics"] not in page.url
    page.get_by_role("button", name="Se déconnecter").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/connexion$"))


def test_a_bad_orders_file_shows_each_bad_cell(page, server, tokens, tmp_path):
    sign_in(page, server, tokens["logistics"])
    page.goto(f"{server}/t/tiny/commandes")
    bad = tmp_path / "commandes.csv"
    bad.write_text(BAD_ORDERS, encoding="utf-8")
    page.get_by_label("Fichier des commandes").set_input_files(str(bad))
    page.get_by_role("button", name="Vérifier et enregistrer").click()
    page.wait_for_selector("table.errors")
    cells = page.locator("table.errors tbody tr").all_inner_texts()
    assert cells[0].startswith("2\tquantity\tattendu : un nombre ≥ 0"), cells  # by line
    assert cells[1].startswith("3\tsite_id\tsite_id inconnu"), cells
    assert "rien n'a été enregistré" in page.inner_text("#erreurs")
    check_page(page, "orders_errors")


def test_run_the_week_watch_progress_then_see_the_map(page, server, tokens):
    polls: list[str] = []
    page.on("response", lambda r: polls.append(r.url) if r.url.endswith("/etat") else None)
    sign_in(page, server, tokens["logistics"])
    page.goto(f"{server}/t/tiny/tournees")
    page.get_by_label("Semaine de la saison").select_option("49")
    page.get_by_role("button", name="Calculer la semaine").click()
    page.wait_for_url(re.compile(r".*/travaux/[0-9a-f-]+$"))
    assert page.locator("progress#job-progress").count() == 1
    page.wait_for_url(re.compile(r".*/tournees/[0-9a-f-]+$"), timeout=120_000)
    page.wait_for_selector("#map[data-ready='1']")
    assert polls, "the progress page never asked for the job's state"
    assert int(page.get_attribute("#map", "data-features")) > 0  # routes and stops drawn
    shot(page, "week_map")


def test_print_all_sheets_to_pdf_one_page_per_sheet(
    browser, guard, server, tokens, solved, web_store
):
    context = guarded_context(browser, guard)
    page = context.new_page()
    sign_in(page, server, tokens["logistics"])
    page.goto(f"{server}/t/tiny/tournees/{solved['routes']}/imprimer")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "feuilles.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    kpis = json.loads(jobs.artifact(web_store, solved["routes"], "kpis.json")[0])
    pickups = json.loads(jobs.artifact(web_store, solved["routes"], "pickups_by_producer.json")[0])
    assert pages == kpis["vehicle_days"] + sum(1 for v in pickups.values() if v)
    context.close()


def test_run_the_real_week_watch_progress_then_see_the_allocation(page, server, tokens):
    sign_in(page, server, tokens["logistics"])
    page.get_by_role("link", name="Semaine réelle", exact=True).click()
    page.get_by_label("Semaine (son lundi)").select_option("2025-01-06")
    page.get_by_label("Quand un produit manque").select_option("maxmin")
    page.get_by_role("button", name="Lancer la semaine").click()
    page.wait_for_url(re.compile(r".*/travaux/[0-9a-f-]+$"))
    assert page.locator("progress#job-progress").count() == 1
    page.wait_for_url(re.compile(r".*/semaine/[0-9a-f-]+$"), timeout=120_000)
    products = page.locator("#produits").inner_text()
    assert "Carotte" in products and "confirmé par les fermes" in products
    check_page(page, "real_week_allocation")


def test_print_the_real_week_to_pdf_one_page_per_sheet_and_list(
    browser, guard, server, tokens, solved, web_store
):

    import pandas as pd

    context = guarded_context(browser, guard)
    page = context.new_page()
    sign_in(page, server, tokens["logistics"])
    page.goto(f"{server}/t/tiny/tournees/{solved['week']}/imprimer")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "feuilles_semaine_reelle.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))

    def frame(name: str) -> pd.DataFrame:
        return read_csv_any(jobs.artifact(web_store, solved["week"], name)[0])

    kpis = json.loads(jobs.artifact(web_store, solved["week"], "routes/kpis.json")[0])
    shops = frame("feuilles/preparation.csv")["Point_de_vente"].nunique()
    farms = frame("feuilles/enlevements.csv")["Ferme"].nunique()
    assert shops == 2 and farms >= 1
    assert pages == kpis["vehicle_days"] + shops + farms
    context.close()


def test_a_producer_confirms_its_week_on_a_phone(page, server, tokens, web_store):
    sign_in(page, server, tokens["producer"])
    page.get_by_role("link", name="Mes disponibilités", exact=True).click()
    page.goto(f"{server}/t/tiny/producteurs/P1/disponibilites?semaine=2025-01-13")
    page.get_by_label("Laitue (kg)").fill("beaucoup")
    page.get_by_role("button", name="Confirmer ces quantités").click()
    page.wait_for_selector("#erreurs")
    assert page.get_attribute("#kg_laitue", "aria-invalid") == "true"
    assert "n'est pas un nombre" in page.inner_text("#err_laitue")
    check_page(page, "producer_availability_errors")
    page.get_by_label("Laitue (kg)").fill("24,5")
    page.get_by_role("button", name="Confirmer ces quantités").click()
    page.wait_for_selector("#enregistre")
    check_page(page, "producer_availability_saved")
    content = store_t.table_content(web_store, "tiny", "availability").decode()
    assert "2025-01-13,F1,laitue,24.5" in content


def test_a_planner_runs_a_what_if_and_sees_the_comparison(page, server, tokens):
    sign_in(page, server, tokens["planner"])
    page.goto(f"{server}/t/tiny/scenarios")
    page.get_by_label("Nom du scénario").fill("demande +30 %")
    page.get_by_label("Demande multipliée par").fill("1,3")
    page.get_by_role("button", name="Calculer le scénario").click()
    page.wait_for_url(re.compile(r".*/scenarios/[0-9a-f-]+$"), timeout=120_000)
    table = page.locator("#kpis")
    assert table.is_visible() and "Couverture de la demande" in table.inner_text()
    assert page.locator("svg.chart").count() == 2
    check_page(page, "whatif_compare")


def test_drag_a_stop_see_the_warning_lock_and_reoptimise(page, server, tokens, solved):
    sign_in(page, server, tokens["logistics"])
    page.goto(f"{server}/t/tiny/tournees/{solved['routes']}?jour=tue")
    page.wait_for_selector("#map[data-ready='1']")
    s1 = page.locator("li[data-site='S1']")
    s1.drag_to(page.locator("ol[data-vehicle='V2']"))
    page.wait_for_selector("#warnings .warning[data-kind='froid']")
    assert page.locator("ol[data-vehicle='V2'] li[data-site='S1']").count() == 1
    shot(page, "week_drag_warning")
    # keyboards move stops with the list beside each stop
    page.locator("ol[data-vehicle='V2'] li[data-site='S1'] select.move").select_option("V1")
    page.wait_for_selector("#warnings .ok")
    page.get_by_label("Verrouiller V1").check()
    page.get_by_role("button", name="Ré-optimiser le reste").click()
    page.wait_for_url(re.compile(r".*/tournees/[0-9a-f-]+$"), timeout=120_000)
    assert solved["routes"] not in page.url  # a new week was solved
    page.wait_for_selector("#map[data-ready='1']")
