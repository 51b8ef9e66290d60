"""Sign-in, session cookie, CSRF, sign-out, role menus and what each key may open."""

from __future__ import annotations

import time

import pytest
from web_helpers import csrf_of, make_client, sign_in

from api.store.keys import hash_token, revoke_key
from api.web.session import COOKIE, open_session


def test_signed_out_pages_redirect_to_the_sign_in_form(client):
    for url in ("/", "/t/tiny/", "/t/tiny/tournees", "/t/tiny/producteurs/P1/engagements"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/connexion", url


def test_sign_in_sets_a_strict_httponly_secure_cookie_and_never_echoes_the_key(
    client, tokens, web_store
):
    form = client.get("/connexion")
    assert 'type="password"' in form.text and '<label for="key">' in form.text
    r = client.post(
        "/connexion",
        data={"key": tokens["planner"], "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and COOKIE in v)
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered
    assert tokens["planner"] not in cookie and tokens["planner"] not in r.text
    assert tokens["planner"] not in r.headers.get("location", "")
    page = client.get("/")  # one territory: straight to it
    assert page.status_code == 200 and page.url.path == "/t/tiny/"
    assert tokens["planner"] not in page.text
    assert "Plan de saison" in page.text and "Tournées" in page.text


def test_cookie_is_not_secure_over_plain_http(web_app, tokens):
    with make_client(web_app) as c:
        c.base_url = "http://testserver"
        form = c.get("/connexion")
        r = c.post(
            "/connexion",
            data={"key": tokens["planner"], "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and COOKIE in v)
        assert "secure" not in cookie.lower() and "httponly" in cookie.lower()


def test_a_wrong_key_is_refused_without_a_session(client):
    form = client.get("/connexion")
    r = client.post("/connexion", data={"key": "vvr_nope", "csrf": csrf_of(form.text)})
    assert r.status_code == 401 and "Clé inconnue" in r.text
    assert COOKIE not in client.cookies


def test_the_key_is_not_taken_from_the_url(client, tokens):
    r = client.get(f"/connexion?key={tokens['planner']}")
    assert r.status_code == 422 and tokens["planner"] not in r.text  # unknown query parameter
    assert COOKIE not in client.cookies


@pytest.mark.parametrize("csrf", [None, "", "0" * 64, "f" * 64])
def test_sign_in_without_the_forms_csrf_token_is_refused(client, tokens, csrf):
    client.get("/connexion")
    data = {"key": tokens["planner"]} | ({"csrf": csrf} if csrf is not None else {})
    r = client.post("/connexion", data=data)
    assert r.status_code == 403 and COOKIE not in client.cookies


def test_sign_out_needs_the_token_and_ends_the_session(as_role):
    c = as_role("logistics")
    home = c.get("/t/tiny/")
    assert home.status_code == 200
    assert c.post("/deconnexion", data={"csrf": "0" * 64}).status_code == 403
    assert c.post("/deconnexion", data={}).status_code == 403
    assert c.get("/t/tiny/").status_code == 200  # still signed in
    r = c.post("/deconnexion", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/connexion"
    assert c.get("/t/tiny/", follow_redirects=False).status_code == 303


def test_each_role_sees_its_own_menu(as_role):
    planner = as_role("planner").get("/t/tiny/").text
    logistics = as_role("logistics").get("/t/tiny/").text
    producer = as_role("producer").get("/t/tiny/")
    assert "Scénarios" in planner and "Commandes" in planner
    assert "Scénarios" not in logistics and "Tournées" in logistics and "Commandes" in logistics
    assert producer.url.path == "/t/tiny/producteurs/P1/engagements"
    assert "Mes engagements" in producer.text and "Tournées" not in producer.text


def test_a_producer_opening_another_producers_page_gets_404(as_role):
    c = as_role("producer")
    assert c.get("/t/tiny/producteurs/P1/engagements").status_code == 200
    r = c.get("/t/tiny/producteurs/P2/engagements")
    assert r.status_code == 404 and "Les Jardins de Vue" not in r.text
    assert c.get("/t/tiny/producteurs/NOPE/engagements").status_code == 404
    assert c.get("/t/tiny/tournees").status_code == 403  # not a producer's page


def test_a_session_of_another_territory_sees_404(as_role, solved):
    c = as_role("other_territory")
    assert c.get("/t/other/").status_code == 200
    for url in ("/t/tiny/", "/t/tiny/tournees", f"/t/tiny/tournees/{solved['routes']}"):
        assert c.get(url).status_code == 404, url
    # a job of tiny named under the other territory's pages reads as one that does not exist
    assert c.get(f"/t/other/tournees/{solved['routes']}").status_code == 404


def test_a_forged_expired_or_revoked_session_is_signed_out(web_app, web_store, tokens):
    import datetime as dt

    from api.store.keys import create_key
    from api.store.models import utcnow

    key_hash = hash_token(tokens["planner"])
    expired = open_session(web_store, key_hash, now=utcnow() - dt.timedelta(hours=13))
    live = open_session(web_store, key_hash)
    for value in (expired, live[:-2] + "xy", "garbage", key_hash, "a" * 500):
        with make_client(web_app) as c:
            c.cookies.set(COOKIE, value)
            assert c.get("/t/tiny/", follow_redirects=False).status_code == 303
    with make_client(web_app) as c:
        c.cookies.set(COOKIE, live)
        assert c.get("/t/tiny/").status_code == 200  # the same token, intact, is a session
    token, principal = create_key(web_store, "planner", territories=["tiny"])
    with make_client(web_app) as c:
        assert sign_in(c, token).status_code == 200
        assert c.get("/t/tiny/").status_code == 200
        revoke_key(web_store, principal.key_id)
        time.sleep(0.6)  # the key cache re-reads the revocation stamp every 0.5 s
        assert c.get("/t/tiny/", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_on_the_server(web_app, tokens):
    with make_client(web_app) as c:
        sign_in(c, tokens["logistics"])
        copied = c.cookies[COOKIE]
        home = c.get("/t/tiny/")
        c.post("/deconnexion", data={"csrf": csrf_of(home.text)})
    with make_client(web_app) as thief:
        thief.cookies.set(COOKIE, copied)  # a copy taken before sign-out
        assert thief.get("/t/tiny/", follow_redirects=False).status_code == 303


def test_the_session_table_holds_hashes_not_keys_nor_tokens(web_app, web_store, tokens):
    from sqlalchemy import select

    from api.store.models import WebSession

    with make_client(web_app) as c:
        sign_in(c, tokens["producer"])
        token = c.cookies[COOKIE]
    with web_store.sessions() as session:
        rows = list(session.scalars(select(WebSession)))
    stored = {r.token_hash for r in rows} | {r.key_hash for r in rows}
    assert hash_token(tokens["producer"]) in stored
    assert token not in stored and tokens["producer"] not in stored


def test_pages_have_a_self_only_csp(as_role):
    r = as_role("planner").get("/t/tiny/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert r.headers["cache-control"] == "no-store"


def test_errors_are_html_on_pages_and_problems_in_the_api(as_role):
    c = as_role("planner")
    page = c.get("/t/tiny/nulle-part")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in page.text
    api = c.get("/v1/nulle-part")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    gone = c.get("/t/tiny/tournees/00000000-0000-0000-0000-000000000000")
    assert gone.status_code == 404 and "text/html" in gone.headers["content-type"]


def test_static_files_do_not_count_against_the_rate_limit(web_store):
    from api.http import create_app

    with make_client(create_app(web_store, rate_limit=(60, 2))) as c:
        for _ in range(5):
            assert c.get("/static/app.css").status_code == 200
        codes = [c.get("/connexion").status_code for _ in range(4)]
        assert codes[:2] == [200, 200] and 429 in codes  # pages do count


def test_a_tile_url_is_checked_and_allowed_by_the_map_pages_csp(as_role, solved, monkeypatch):
    from api.settings import Settings
    from core.errors import InputError

    with pytest.raises(InputError, match="VIVRES_TILE_URL must be an https:// URL"):
        Settings.from_env({"VIVRES_TILE_URL": "http://tiles.example.org/{z}/{x}/{y}.png"})
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['routes']}")
    assert (
        "data-tiles" not in page.text
        and "img-src 'self' data:;" in page.headers["content-security-policy"]
    )
    monkeypatch.setenv("VIVRES_TILE_URL", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    page = c.get(f"/t/tiny/tournees/{solved['routes']}")
    assert 'data-tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in page.text
    assert (
        "img-src 'self' data: https://*.tile.example.org;"
        in page.headers["content-security-policy"]
    )


def test_a_key_of_several_territories_chooses_one(web_app, web_store):
    from api.store.keys import create_key

    token, _ = create_key(web_store, "logistics", territories=["tiny", "other"])
    with make_client(web_app) as c:
        assert sign_in(c, token).status_code == 200
        page = c.get("/")
        assert page.url.path == "/" and "Vos territoires" in page.text
        assert 'href="/t/tiny/"' in page.text and 'href="/t/other/"' in page.text


def test_the_home_page_links_only_to_pages_of_the_callers_role(as_role, solved):
    planner = as_role("planner").get("/t/tiny/").text
    logistics = as_role("logistics").get("/t/tiny/").text
    assert f"/t/tiny/plan?job={solved['plan']}" in planner
    assert f"/t/tiny/tournees/{solved['routes']}" in planner
    assert "/plan?job=" not in logistics and f"/t/tiny/tournees/{solved['routes']}" in logistics


def test_static_files_are_compressed_and_the_api_is_not(client):
    js = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-encoding"] == "gzip"
    assert js.num_bytes_downloaded < 60_000 < len(js.content)  # sent compressed
    assert js.headers["x-content-type-options"] == "nosniff"
    api = client.get("/v1/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in api.headers
