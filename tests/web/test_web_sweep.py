"""The sensitivity page: plans for several scenarios × seeds from a form (a ``sweep`` job),
each KPI's median and spread per scenario, its printable summary and spreadsheets."""

from __future__ import annotations

import io

import openpyxl
import pytest
from web_helpers import csrf_of, run
from web_sites import open_site

from api import jobs
from api.store.models import Scenario, utcnow
from api.web.sweep import factors_of
from core.errors import InputError

DROUGHT = (
    "name: sécheresse\nchanges:\n"
    "  - yield_shock: {product: carotte, factor: 0.5, weeks: [20, 30]}\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """tiny (with one stored scenario) and ``other``; a signed-in client per key."""

    def add_scenario(store) -> None:
        with store.session() as session:
            session.add(
                Scenario(
                    scenario_id="sc-drought",
                    territory_id="tiny",
                    name="sécheresse",
                    body=DROUGHT,
                    created_at=utcnow(),
                )
            )

    store, clients = open_site(tmp_path_factory.mktemp("sweep-web"), prepare=add_scenario)
    yield store, clients
    store.engine.dispose()


def submit(client, data: list[tuple[str, str]]):
    csrf = csrf_of(client.get("/t/tiny/sensibilite").text)
    fields: dict[str, list[str]] = {"csrf": [csrf]}
    for name, value in data:
        fields.setdefault(name, []).append(value)
    return client.post("/t/tiny/sensibilite", data=fields, follow_redirects=False)


def test_factors_are_read_the_french_way():
    assert factors_of("0,9 ; 1,1;1,2  1,1") == [0.9, 1.1, 1.2]
    assert factors_of("") == []
    for bad in ("abc", "0", "-1", "11", "; ".join(map(str, range(1, 10)))):
        with pytest.raises(InputError):
            factors_of(bad)


def test_form_lists_the_base_and_the_stored_scenarios(site):
    _, clients = site
    page = clients["planner"].get("/t/tiny/sensibilite")
    assert page.status_code == 200
    assert "Plan de base" in page.text and "sécheresse" in page.text
    assert clients["logistics"].get("/t/tiny/sensibilite").status_code == 403
    assert clients["other"].get("/t/tiny/sensibilite").status_code == 404


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ([("factors", "beaucoup")], "n&#39;est pas un nombre"),
        ([("scenario", "base"), ("seeds", "9")], "entre 1 et 5"),
        ([("effort", "0.1")], "au moins un scénario"),
        ([("scenario", "nope")], "ce scénario n&#39;existe pas"),
        ([("scenario", "base"), ("effort", "99")], "Effort"),
    ],
)
def test_refused_forms_say_why_and_queue_nothing(site, data, said):
    store, clients = site
    answer = submit(clients["planner"], data)
    assert answer.status_code == 422, answer.text[:300]
    assert said in answer.text
    assert jobs.claim_next(store, "test:0") is None


def test_a_sweep_run_from_the_form_shows_each_scenario_and_its_files(site):
    store, clients = site
    client = clients["planner"]
    answer = submit(
        client,
        [("scenario", "base"), ("scenario", "sc-drought"), ("factors", "1,2"), ("effort", "0.1")],
    )
    assert answer.status_code == 303, answer.text[:300]
    job_id = answer.headers["location"].rsplit("/", 1)[-1]
    assert jobs.get_job(store, job_id).params["grid"] == {"demand_factor": [1.2]}
    run(store, job_id)
    assert client.get(f"/t/tiny/travaux/{job_id}", follow_redirects=False).headers["location"] == (
        f"/t/tiny/sensibilite/{job_id}"
    )
    page = client.get(f"/t/tiny/sensibilite/{job_id}")
    assert page.status_code == 200
    for name in ("plan de base", "sécheresse", "demande × 1,2"):
        assert name in page.text
    base = f"/t/tiny/sensibilite/{job_id}/fichiers"
    assert client.get(f"{base}/summary.html").status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/summary.xlsx").content))
    assert book.active.max_row == 4  # a header and three scenarios
    assert client.get(f"{base}/runs.parquet").status_code == 404  # not on the list
    assert clients["other"].get(f"{base}/summary.csv").status_code == 404
