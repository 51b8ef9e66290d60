"""Issue 11, part B: every hostile or broken input is a 4xx problem+json, fast and bounded."""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile

import pytest

from tests.api.conftest import TINY, tiny_files

PROBLEM = "application/problem+json"
ORDER_LINE = b"2025-01-08,S1,carotte,12,kg,2.5\n"
HEADER = b"date,site_id,product_id,quantity,unit,unit_price_eur\n"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


def test_producer_id_that_is_a_path_is_refused_on_upload(client, keys):
    files = tiny_files()
    for table in ("producers", "producer_crops"):
        name, content, media = files[table]
        lines = content.decode().splitlines()
        lines = [lines[0]] + [
            line.replace("P1,", "../../../../tmp/PWNED,", 1) for line in lines[1:]
        ]
        files[table] = (name, ("\n".join(lines) + "\n").encode(), media)
    body = _problem(client.put("/v1/territories/t", files=files, headers=keys["planner"]), 422)
    assert {"file": "producers.csv", "row": 2, "column": "producer_id"}.items() <= body["errors"][
        0
    ].items()


def test_column_bomb_is_refused_fast(client, keys, tiny):
    wide = b",".join(b"c%d" % i for i in range(20_000))
    content = HEADER.rstrip(b"\n") + b"," + wide + b"\n" + ORDER_LINE
    started = time.process_time()  # CPU of this process (the app runs in a thread of it): other
    # processes on a busy machine do not count
    r = client.post(
        "/v1/territories/tiny/orders",
        content=content,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert time.process_time() - started < 5
    body = _problem(r, 422)
    assert "20006 columns" in body["detail"] and body["errors"][0]["file"] == "orders.csv"


def test_gzip_bomb_is_refused_after_the_cap(client, keys, tiny, monkeypatch):
    monkeypatch.setenv("VIVRES_MAX_UNCOMPRESSED_MB", "8")
    bomb = gzip.compress(b"0" * (256 << 20), compresslevel=9)  # 256 MiB from ~250 KB
    assert len(bomb) < (2 << 20)  # under the test client's 2 MiB body limit
    started = time.process_time()  # CPU of this process (the app runs in a thread of it): other
    # processes on a busy machine do not count
    r = client.post(
        "/v1/territories/tiny/orders",
        content=bomb,
        headers={**keys["planner"], "Content-Type": "application/gzip"},
    )
    assert time.process_time() - started < 5
    body = _problem(r, 413)
    assert "unpacks to more than 8 MiB" in body["detail"]


def test_zip_of_too_many_lines_is_refused(client, keys, monkeypatch):
    monkeypatch.setenv("VIVRES_MAX_UPLOAD_ROWS", "1000")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(TINY.glob("*.csv")):
            if path.name != "orders.csv":
                archive.write(path, path.name)
        archive.writestr("orders.csv", HEADER + ORDER_LINE * 5000)
    r = client.put(
        "/v1/territories/t",
        content=buffer.getvalue(),
        headers={**keys["planner"], "Content-Type": "application/zip"},
    )
    body = _problem(r, 413)
    assert "more than 1,000 rows" in body["detail"]
    assert client.get("/v1/territories/t", headers=keys["planner"]).status_code == 404


def test_plain_csv_over_the_row_cap_is_refused(client, keys, tiny, monkeypatch):
    monkeypatch.setenv("VIVRES_MAX_UPLOAD_ROWS", "10")
    r = client.post(
        "/v1/territories/tiny/orders",
        content=HEADER + ORDER_LINE * 11,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    _problem(r, 413)


def test_zip_with_a_bad_crc_is_a_422(client, keys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(TINY.glob("*.csv")):
            archive.write(path, path.name)
    data = bytearray(buffer.getvalue())
    at = data.index(b"HUB,")  # flip one byte of sites.csv's stored content
    data[at] = ord("X")
    r = client.put(
        "/v1/territories/t",
        content=bytes(data),
        headers={**keys["planner"], "Content-Type": "application/zip"},
    )
    body = _problem(r, 422)
    assert "CRC" in body["detail"]


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04 not really a zip", b"", b"PK\x05\x06" + b"\x00" * 18]
)
def test_corrupt_xlsx_is_a_422(client, keys, tiny, content):
    r = client.put(
        "/v1/territories/tiny/tables/products",
        content=content,
        headers={
            **keys["planner"],
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    body = _problem(r, 422)
    assert "/tmp" not in r.text and "vivres-" not in r.text
    assert body["errors"][0]["file"].startswith("products")


def test_xlsx_without_a_sheet_is_a_422(client, keys, tiny):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    r = client.put(
        "/v1/territories/tiny/tables/products",
        content=buffer.getvalue(),
        headers={
            **keys["planner"],
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    _problem(r, 422)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_numbers_are_422_and_never_echoed_as_numbers(client, keys, tiny, number):
    r = client.post(
        "/v1/territories/tiny/plans",
        content=f'{{"time_limit_s": {number}}}',
        headers={**keys["planner"], "Content-Type": "application/json"},
    )
    body = _problem(r, 422)
    assert body["errors"][0]["field"] == "body.time_limit_s"
    json.loads(r.text)  # strict JSON: no NaN/Infinity tokens


ALIAS_BOMB = """name: lol
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
changes: [*g]
"""


def test_yaml_alias_bomb_is_refused_fast_and_small(client, keys, tiny):
    started = time.process_time()  # CPU of this process (the app runs in a thread of it): other
    # processes on a busy machine do not count
    r = client.post(
        "/v1/territories/tiny/scenarios",
        json={"name": "lol", "body": ALIAS_BOMB},
        headers=keys["planner"],
    )
    assert time.process_time() - started < 2
    body = _problem(r, 422)
    assert "anchors and aliases" in body["detail"]
    assert len(r.content) < 2000


def test_scenario_error_values_are_truncated(client, keys, tiny):
    scenario = "name: x\nchanges:\n  - demand: {factor: [" + ",".join(["1"] * 20000) + "]}\n"
    r = client.post(
        "/v1/territories/tiny/scenarios",
        json={"name": "x", "body": scenario},
        headers=keys["planner"],
    )
    _problem(r, 422)
    assert len(r.content) < 3000


def test_oversized_scenario_is_refused(client, keys, tiny):
    r = client.post(
        "/v1/territories/tiny/scenarios",
        json={"name": "x", "body": "name: x\n#" + "x" * 200_000},
        headers=keys["planner"],
    )
    body = _problem(r, 422)
    assert body["errors"][0]["field"] == "body.body"


def test_missing_table_error_does_not_leak_the_temporary_folder(client, keys):
    files = tiny_files()
    del files["vehicles"]
    r = client.put("/v1/territories/t", files=files, headers=keys["planner"])
    body = _problem(r, 422)
    assert body["errors"][0]["file"] == "vehicles.csv"
    assert "/tmp" not in r.text and "vivres-upload" not in r.text


def test_html_and_json_responses_carry_security_headers(client, keys, tiny):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr" not in docs.text and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-content-type-options"] == "nosniff"
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    health = client.get("/v1/health")
    assert health.headers["x-content-type-options"] == "nosniff"


def test_french_cp1252_orders_upload_loads_like_utf8(client, keys, tiny):
    utf8 = (TINY / "orders.csv").read_bytes()
    r = client.post(
        "/v1/territories/tiny/orders?mode=replace",
        content=utf8,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    stored_utf8 = client.get("/v1/territories/tiny/tables/orders", headers=keys["planner"]).text
    lines = utf8.decode().splitlines()
    french = [lines[0].replace(",", ";")]
    for line in lines[1:]:
        date, site, product, qty, unit, price = line.split(",")
        y, m, d = date.split("-")
        french.append(
            ";".join(
                [
                    f"{d}/{m}/{y}",
                    site,
                    product,
                    qty.replace(".", ","),
                    unit,
                    price.replace(".", ","),
                ]
            )
        )
    content = ("\r\n".join(french) + "\r\n").encode("cp1252")
    r = client.post(
        "/v1/territories/tiny/orders?mode=replace",
        content=content,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    stored_french = client.get("/v1/territories/tiny/tables/orders", headers=keys["planner"]).text
    assert stored_french == stored_utf8  # stored the canonical way: ISO dates, decimal points


def _number_fields(app) -> list[tuple[str, str, str]]:
    """(method, path, field) of every JSON body property typed number in the schema."""
    schema = app.openapi()
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ref = (body or {}).get("schema", {})
            ref = ref.get("$ref") or next(
                (s.get("$ref") for s in ref.get("anyOf", []) if "$ref" in s), None
            )
            if not ref:
                continue
            model = components[ref.rsplit("/", 1)[-1]]
            for name, prop in model.get("properties", {}).items():
                if prop.get("type") == "number":
                    found.append((method, path, name))
    return found


def test_every_json_number_field_refuses_non_finite_values(client, keys, tiny):
    fields = _number_fields(client.app)
    assert ("post", "/v1/territories/{territory_id}/routes", "time_limit_s") in fields
    for method, path, name in fields:
        url = path.replace("{territory_id}", "tiny").replace("{scenario_id}", "nope")
        for number in ("NaN", "-Infinity", "1e309"):
            body = f'{{"{name}": {number}, "week": 1}}'
            r = client.request(
                method.upper(),
                url,
                content=body,
                headers={**keys["planner"], "Content-Type": "application/json"},
            )
            assert 400 <= r.status_code < 500, (path, name, number, r.text[:300])
            assert r.headers["content-type"].startswith(PROBLEM)
            json.loads(r.text)


def test_served_html_results_have_csp_nosniff_and_no_framing(client, keys, tiny, store):
    from api import jobs

    r = client.post(
        "/v1/territories/tiny/plans",
        json={"time_limit_s": 3, "horizon_weeks": 52},
        headers=keys["planner"],
    )
    job_id = r.json()["job_id"]
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error
    url = f"/v1/plans/{job_id}/contracts/P1?format=html"
    for _ in range(2):  # cold read, then the warm fast path (api/http/fastpath.py)
        page = client.get(url, headers=keys["producer"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp  # no script may run in a result page
        assert page.headers["x-content-type-options"] == "nosniff"
    csv = client.get(f"/v1/plans/{job_id}/contracts/P1", headers=keys["producer"])
    assert csv.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in csv.headers


def test_json_rows_with_20000_keys_are_refused(client, keys, tiny):
    row = {
        "date": "2025-01-08",
        "site_id": "S1",
        "product_id": "carotte",
        "quantity": 1,
        "unit": "kg",
        **{f"x{i}": "" for i in range(20_000)},
    }
    started = time.process_time()  # CPU of this process (the app runs in a thread of it): other
    # processes on a busy machine do not count
    r = client.post("/v1/territories/tiny/orders", json=[row, row], headers=keys["planner"])
    assert time.process_time() - started < 5
    body = _problem(r, 422)
    assert "20005 distinct keys" in body["detail"]


def test_job_errors_and_logs_leave_without_temporary_paths():
    from datetime import datetime

    from api.http.schemas import JobOut, LogLine

    job = JobOut(
        job_id="j",
        kind="plan",
        territory_id="t",
        territory_version=1,
        params={},
        status="failed",
        progress=1.0,
        message="failed",
        cancel_requested=False,
        error="internal error (FileNotFoundError: '/tmp/vivres-job-ab12/out/x.csv')",
        created_at=datetime(2026, 1, 1),
    )
    assert "/tmp" not in job.error and "x.csv" in job.error
    line = LogLine(
        log_id=1,
        at=datetime(2026, 1, 1),
        level="ERROR",
        message='File "/tmp/vivres-tiny-1x2/orders.csv", line 3',
    )
    assert "/tmp" not in line.message


def test_xlsx_that_unpacks_too_far_is_refused_before_parsing(client, keys, tiny):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (70 << 20))
    assert len(buffer.getvalue()) < (1 << 20)
    started = time.process_time()  # CPU of this process (the app runs in a thread of it): other
    # processes on a busy machine do not count
    r = client.put(
        "/v1/territories/tiny/tables/products",
        content=buffer.getvalue(),
        headers={
            **keys["planner"],
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    assert time.process_time() - started < 5
    body = _problem(r, 413)
    assert "unpacks to 70 MiB" in body["detail"]


def test_zip_with_an_encrypted_member_is_a_422(client, keys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(TINY.glob("*.csv")):
            archive.write(path, path.name)
    data = bytearray(buffer.getvalue())
    for signature, flag_at in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):  # mark all encrypted
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 0x1
            at = data.find(signature, at + 4)
    r = client.put(
        "/v1/territories/t",
        content=bytes(data),
        headers={**keys["planner"], "Content-Type": "application/zip"},
    )
    body = _problem(r, 422)
    assert "encrypted" in body["detail"]


def test_randomly_corrupted_zips_never_give_a_5xx(client, keys):
    import random

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(TINY.glob("*.csv")):
            archive.write(path, path.name)
    original = buffer.getvalue()
    rng = random.Random(42)
    statuses = set()
    for _ in range(60):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        r = client.put(
            "/v1/territories/t",
            content=bytes(data),
            headers={**keys["planner"], "Content-Type": "application/zip"},
        )
        assert r.status_code < 500, r.text[:300]
        statuses.add(r.status_code)
    assert statuses & {422}  # most corruptions are caught, as 422 problems
