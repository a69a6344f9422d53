"""The API's core: tokens (hashed, listed and revoked by their user and by administrators), session
authentication with its CSRF check, throttling, the bodies of refusals, the schema and its page."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import token_client
from tests.factories import AwardFormFactory, CampaignFactory, UnitFactory, build_org

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"


@pytest.fixture
def org(db):
    return build_org()


@pytest.fixture
def user(org):
    return org.users["hospital_head"]


def trade(username, password="pw"):  # noqa: S107 (the factories' password)
    return APIClient().post(TOKEN, {"username": username, "password": password}, format="json")


def as_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- tokens --------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_the_database_keeps_only_its_digest(user):
    response = trade(user.username)

    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("thidua_")
    assert response.json()["token_key"] == secret[: len(response.json()["token_key"])]
    row = AuthToken.objects.get(user=user)
    assert all(secret not in str(value) for value in AuthToken.objects.filter(pk=row.pk).values().get().values())
    assert as_token(secret).get("/api/v1/units/").status_code == 200
    # Listed afterwards without the secret.
    assert secret not in TOKENS
    assert secret not in as_token(secret).get(TOKENS).content.decode()


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(user):
    wrong_password = trade(user.username, "not-the-password")
    unknown_user = trade("nobody-here")

    assert wrong_password.status_code == unknown_user.status_code == 400
    assert wrong_password.json() == unknown_user.json()  # nothing says which part was wrong
    assert wrong_password.json()["code"] == "invalid"
    assert "errors" not in wrong_password.json()
    assert not AuthToken.objects.exists()


def test_the_token_list_shows_only_the_users_own_tokens_and_which_one_asks(org, user):
    _other, _ = AuthToken.objects.create(org.users["ward_head"])
    first, first_secret = AuthToken.objects.create(user)
    second, _ = AuthToken.objects.create(user)

    response = as_token(first_secret).get(TOKENS)

    assert response.status_code == 200
    assert sorted(item["token_key"] for item in response.json()) == sorted([first.token_key, second.token_key])
    assert [item["current"] for item in response.json() if item["token_key"] == first.token_key] == [True]
    assert all(set(item) == {"token_key", "created", "expiry", "current"} for item in response.json())


def test_a_user_revokes_a_token_and_it_answers_401_from_then_on(user):
    _token, secret = AuthToken.objects.create(user)
    other, other_secret = AuthToken.objects.create(user)

    assert as_token(secret).delete(f"{TOKENS}{other.token_key}/").status_code == 204

    response = as_token(other_secret).get("/api/v1/units/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"
    assert as_token(secret).get("/api/v1/units/").status_code == 200


def test_another_users_token_is_not_found_and_survives(org, user):
    theirs, their_secret = AuthToken.objects.create(org.users["ward_head"])

    response = token_client(user).delete(f"{TOKENS}{theirs.token_key}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert as_token(their_secret).get("/api/v1/units/").status_code == 200


def test_an_administrator_revokes_a_users_token_in_the_admin(org, user, client):
    token, secret = AuthToken.objects.create(user)
    client.force_login(org.users["admin"])

    changelist = client.get(reverse("admin:knox_authtoken_changelist"))
    assert changelist.status_code == 200
    assert user.username in changelist.content.decode()
    assert secret not in changelist.content.decode()
    assert client.get(reverse("admin:knox_authtoken_change", args=[token.pk])).status_code == 200
    response = client.post(reverse("admin:knox_authtoken_delete", args=[token.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert as_token(secret).get("/api/v1/units/").status_code == 401


# --- sessions ------------------------------------------------------------------------------------------


def test_a_signed_in_browser_session_reads_the_api_and_writes_only_with_its_csrf_token(user):
    token, _ = AuthToken.objects.create(user)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.get("/api/v1/units/").status_code == 200
    refused = browser.delete(f"{TOKENS}{token.token_key}/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert AuthToken.objects.filter(pk=token.pk).exists()

    browser.get(reverse("login"))  # sets the CSRF cookie, as any page does
    allowed = browser.delete(f"{TOKENS}{token.token_key}/", HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert allowed.status_code == 204


# --- throttling ----------------------------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    """DRF reads the rates into the throttle class when it is imported: patch that dict, not the settings."""
    for scope, rate in {"user": "3/min", "anon": "2/min", "token": "2/min"}.items():
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)


def test_a_user_over_their_rate_gets_429_with_retry_after(org, user, low_rates):
    client = token_client(user)
    statuses = [client.get("/api/v1/units/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/units/")
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    # Another user has a rate of their own.
    assert token_client(org.users["ward_head"]).get("/api/v1/units/").status_code == 200


def test_anonymous_requests_and_token_trades_have_their_own_rates(user, low_rates):
    # (Anonymous requests to an operation that needs a user are refused with 401 before any rate.)
    assert [APIClient().get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    assert [trade(user.username).status_code for _ in range(3)] == [201, 201, 429]


def test_a_locked_log_in_answers_the_api_in_json_with_retry_after(user, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 2
    assert trade(user.username, "wrong").status_code == 400
    assert trade(user.username, "wrong").status_code == 429  # the failure that locks

    locked = trade(user.username)  # the right password, but the account is locked

    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json()["code"] == "throttled"
    assert locked.json()["detail"]
    assert int(locked["Retry-After"]) > 60
    assert not AuthToken.objects.exists()


# --- errors --------------------------------------------------------------------------------------------


def test_invalid_input_is_a_400_with_each_fields_errors():
    response = APIClient().post(TOKEN, {"username": ""}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    assert set(body["errors"]) == {"username", "password"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_a_bad_page_size_is_a_400_and_a_bad_cursor_a_404(user):
    client = token_client(user)

    for bad in ("0", "201", "x", ["5", "6"]):
        response = client.get("/api/v1/units/", {"page_size": bad})
        assert response.status_code == 400, bad
        assert "page_size" in response.json()["errors"]
    assert client.get("/api/v1/units/", {"page_size": 200}).status_code == 200
    assert client.get("/api/v1/units/", {"cursor": "not-a-cursor"}).json() == {
        "detail": "Invalid cursor",
        "code": "not_found",
    }


def test_a_path_no_route_matches_is_a_json_404_under_the_api_only(user, client):
    response = token_client(user).get("/api/v1/units/1.5/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code"}
    assert response.json()["code"] == "not_found"
    client.force_login(user)
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


# --- the schema and its page ---------------------------------------------------------------------------


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert "/api/v1/auth/token/" in (tmp_path / "schema.yml").read_text()


def test_every_operation_documents_its_refusals(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    units = paths["/api/v1/units/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "429"} <= set(units)
    assert units["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApiError"}
    assert {"201", "400", "429"} <= set(paths["/api/v1/auth/token/"]["post"]["responses"])
    page_size = next(p for p in paths["/api/v1/units/"]["get"]["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_the_docs_page_and_its_script_load_nothing_from_another_site(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?script=[^"]*)"', html).group(1)
    script = client.get(script_url.replace("&amp;", "&"))

    assert script.status_code == 200
    assert not re.search(r"https?://", html)
    assert not re.search(r"https?://", script.content.decode())
    assert "<style>" not in html
    assert "<script>" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert asset.startswith("/static/"), asset


# --- query counts --------------------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, {"page_size": 200}).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/api/v1/units/", lambda org, n: UnitFactory.create_batch(n)),
        ("/api/v1/award-forms/", lambda org, n: AwardFormFactory.create_batch(n)),
        ("/api/v1/campaigns/", lambda org, n: CampaignFactory.create_batch(n, launching_unit=org.city)),
        (
            "/api/v1/auth/tokens/",
            lambda org, n: [AuthToken.objects.create(org.users["hospital_head"]) for _ in range(n)],
        ),
    ],
)
def test_a_core_list_reads_the_same_number_of_queries_for_10_and_200_rows(org, user, path, make):
    client = token_client(user)
    make(org, 10)
    few = _queries(client, path)
    make(org, 190)
    assert _queries(client, path) == few
