"""Site-wide rules: which pages are public, the docs and schema, static assets served by us."""

import re

import pytest
import yaml
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import make_key, make_user

pytestmark = pytest.mark.django_db

PUBLIC = {"home", "dashboard", "signup", "login", "logout", "password_reset", "password_reset_done",
          "password_reset_confirm", "password_reset_complete", "api-schema", "api-docs", "health", "ready"}


def named_routes():
    """(name, example path) for every named dashboard route outside /admin/ and the bearer API."""
    routes = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("admin/"):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                path = prefix + str(p.pattern)
                path = re.sub(r"<uuid:\w+>", "0c9a1d5e-7a43-4c1b-9a59-0a5c2b7a4a11", path)
                path = re.sub(r"<\w+>", "x", path)
                routes.append((p.name, "/" + path))

    walk(get_resolver().url_patterns)
    return [(n, p) for n, p in routes if not p.startswith("/api/v1/")]


def test_every_page_but_the_public_ones_needs_a_login():
    routes = named_routes()
    assert {"keys", "key_create", "key_edit", "key_reset", "key_revoke", "credits", "start"} <= {n for n, _ in routes}
    client = Client()
    for name, path in routes:
        if name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("login") + "?next="), (name, method)


def test_public_pages_answer_without_a_login():
    client = Client()
    for name in ("home", "signup", "login", "password_reset", "password_reset_done", "password_reset_complete",
                 "api-docs", "api-schema"):
        assert client.get(reverse(name)).status_code == 200, name


def test_a_logged_in_user_is_sent_from_the_landing_page_to_the_dashboard(client):
    client.force_login(make_user())
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("keys")


def test_get_started_has_a_ready_curl_with_a_placeholder_and_the_error_table(client):
    user = make_user()
    key, token = make_key(user, name="main")
    client.force_login(user)
    body = client.get(reverse("start")).content.decode()
    assert "curl -X POST http://testserver/api/v1/parse" in body
    assert "Authorization: Bearer $EASYDOWN_TOKEN" in body
    assert key.masked_token in body and token not in body
    for code in ("missing_token", "insufficient_credits", "content_restricted", "upstream_timeout", "302", "304"):
        assert f"<code>{code}</code>" in body, code
    assert "&quot;status&quot;: 200" in body


def test_the_schema_describes_the_parse_endpoint_its_auth_and_errors():
    response = Client().get(reverse("api-schema"))
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    parse = schema["paths"]["/api/v1/parse"]["post"]
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "ed_live_…",
        "description": "An API key from the dashboard: `Authorization: Bearer ed_live_…`.",
    }
    assert parse["security"] == [{"bearerAuth": []}]
    body_schema = parse["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ParseRequest"}
    assert set(parse["responses"]) == {"200", "400", "401", "402", "403", "405", "409", "413", "415", "422", "429",
                                       "451", "503", "504"}
    assert "Retry-After" in parse["responses"]["429"]["headers"]
    # The reference lists the API, not itself.
    assert set(schema["paths"]) == {"/api/v1/parse", "/api/v1/live", "/api/v1/collection", "/api/v1/account",
                                    "/api/v1/media/{token}"}
    live, collection = schema["paths"]["/api/v1/live"]["post"], schema["paths"]["/api/v1/collection"]["post"]
    assert live["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LiveRequest"}
    assert collection["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"][0] == {
        "$ref": "#/components/schemas/CollectionSuccess"}
    assert set(live["responses"]) == set(parse["responses"])  # the same pipeline, the same errors
    assert parse["responses"]["451"]["content"]["application/json"]["examples"]["content_restricted"]["value"][
        "code"] == "content_restricted"
    media = schema["components"]["schemas"]["MediaResult"]
    assert {"platform", "title", "thumbnail", "duration", "images", "videos", "audios"} <= set(media["required"])
    assert "/api/v1/account" in schema["paths"]
    json_schema = Client().get(reverse("api-schema"), {"format": "json"})
    assert json_schema.status_code == 200 and json_schema.json()["openapi"].startswith("3.")


def test_the_interactive_docs_use_our_own_static_files():
    body = Client().get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in body.lower()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', body)
    assert assets, body[:2000]
    for asset in assets:
        assert asset.startswith("/static/"), asset
        response = Client().get(asset)
        assert response.status_code == 200, asset
        b"".join(response.streaming_content) if response.streaming else response.content
    assert "cdn" not in " ".join(assets).lower()


def test_dashboard_pages_load_only_our_own_assets(client):
    client.force_login(make_user())
    for name in ("keys", "credits", "start", "key_create"):
        body = client.get(reverse(name)).content.decode()
        for url in re.findall(r'(?:src|href)="([^"#]+)"', body):
            assert url.startswith("/") or url.startswith("?"), (name, url)
    for asset in ("/static/css/app.css", "/static/js/app.js", "/static/img/favicon.svg"):
        assert client.get(asset).status_code == 200, asset


def test_unknown_pages_get_the_site_404_and_api_paths_the_json_one(client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and "Page not found" in page.content.decode()
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
