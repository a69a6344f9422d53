"""Log-in throttling: per account and per address, in the database, for the app's and the admin's log-in."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from processes.models import DossierDownload
from processes.network import client_address
from tests.factories import UserFactory, attach_file, make_nomination

APP_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
OFFICE_NAT = "203.0.113.7"


def browser(address=OFFICE_NAT, *, language="en") -> Client:
    client = Client(REMOTE_ADDR=address)
    if language:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def log_in(client, username, password, *, url=APP_LOGIN, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


@pytest.fixture
def officer(db):
    return UserFactory(username="officer")


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_limits_suit_an_office_behind_one_address():
    assert django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT == 10
    assert django_settings.LOGIN_ADDRESS_FAILURE_LIMIT == 50
    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert django_settings.AXES_HANDLER == "processes.login_throttle.LoginThrottle"


def test_below_the_account_limit_the_right_password_logs_in(officer):
    client = browser()
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1):
        assert log_in(client, "officer", "wrong").status_code == 200
    response = log_in(client, "officer", "pw")
    assert response.status_code == 302
    assert signed_in(client)


def test_the_right_password_is_refused_once_the_account_limit_is_hit(officer):
    client = browser()
    for _ in range(25):
        log_in(client, "officer", "wrong")
    response = log_in(client, "officer", "pw")

    assert response.status_code == 429
    assert not signed_in(client)
    assert "locked until" in response.content.decode()
    # Kept in the database, counted per account.
    assert sum(AccessAttempt.objects.filter(username="officer").values_list("failures_since_start", flat=True)) == 10


def test_the_account_is_locked_from_every_address(officer):
    for attempt in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        # A different address each time: an attacker with many machines.
        log_in(browser(f"198.51.100.{attempt + 1}"), "officer", "wrong")
    client = browser("192.0.2.99")
    assert log_in(client, "officer", "pw").status_code == 429
    assert not signed_in(client)


def test_the_superuser_is_locked_out_of_the_admin_log_in_too(root):
    client = browser()
    for _ in range(25):
        log_in(client, "root", "wrong", url=ADMIN_LOGIN)
    response = log_in(client, "root", "pw", url=ADMIN_LOGIN)

    assert response.status_code == 429
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302  # still sent to the log-in page
    # The app's log-in page shares the lock.
    assert log_in(client, "root", "pw").status_code == 429


def test_the_lockout_page_says_in_vietnamese_when_to_try_again(officer):
    client = browser(language=None)
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        response = log_in(client, "officer", "wrong")
    # The failure that reaches the limit already answers with the lockout page.
    assert response.status_code == 429
    last = AccessAttempt.objects.filter(username="officer").latest("attempt_time").attempt_time
    until = timezone.localtime(last + django_settings.AXES_COOLOFF_TIME)
    text = response.content.decode()
    assert "Tài khoản này đã đăng nhập sai quá nhiều lần" in text
    assert f"khoá đến {formats.date_format(until, 'H:i')}" in text
    assert 'lang="vi"' in text


def test_after_the_lockout_time_the_right_password_logs_in_again(officer):
    client = browser()
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        log_in(client, "officer", "wrong")
    assert log_in(client, "officer", "pw").status_code == 429
    # The lockout time passes.
    AccessAttempt.objects.update(attempt_time=timezone.now() - django_settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert log_in(client, "officer", "pw").status_code == 302
    assert signed_in(client)


def test_attempts_while_locked_do_not_extend_the_lock(officer):
    client = browser()
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        log_in(client, "officer", "wrong")
    before = list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start"))
    for _ in range(5):
        assert log_in(client, "officer", "wrong").status_code == 429
    assert list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start")) == before


def test_a_successful_log_in_resets_the_accounts_counter(officer):
    client = browser()
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1):
        log_in(client, "officer", "wrong")
    assert log_in(client, "officer", "pw").status_code == 302
    assert not AccessAttempt.objects.filter(username="officer").exists()

    again = browser()
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1):
        log_in(again, "officer", "wrong")
    assert log_in(again, "officer", "pw").status_code == 302


def test_the_address_is_locked_after_its_own_higher_limit(db, settings):
    UserFactory(username="colleague")
    guesser = browser()
    accounts = [f"user{n}" for n in range(django_settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for index, username in enumerate(accounts):
        response = log_in(guesser, username, "wrong")
        # Below the address's limit, one failure per account locks nothing.
        assert response.status_code == (429 if index == len(accounts) - 1 else 200)

    # A colleague behind the same address, who never failed, cannot log in now...
    colleague = browser()
    response = log_in(colleague, "colleague", "pw")
    assert response.status_code == 429
    assert "network address" in response.content.decode()
    assert not signed_in(colleague)
    # ...but can from another address.
    elsewhere = browser("192.0.2.10")
    assert log_in(elsewhere, "colleague", "pw").status_code == 302


def test_logging_in_to_ones_own_account_does_not_clear_the_addresss_failures(db):
    UserFactory(username="insider")
    UserFactory(username="victim")
    client = browser()
    for _ in range(3):
        log_in(client, "victim", "wrong")
    assert log_in(client, "insider", "pw").status_code == 302
    failures = AccessAttempt.objects.filter(ip_address=OFFICE_NAT).values_list("failures_since_start", flat=True)
    assert sum(failures) == 3


def test_typos_followed_by_a_log_in_do_not_count_against_the_shared_address(db):
    """An office's morning: many users mistype once, then log in; nobody is locked out."""
    users = [UserFactory(username=f"staff{n}").username for n in range(django_settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for username in users:
        client = browser()
        log_in(client, username, "wrong")
        assert log_in(client, username, "pw").status_code == 302, username
    assert not AccessAttempt.objects.exists()


# --- the client's address behind a reverse proxy ----------------------------------------------------


def test_without_trusted_proxies_a_forwarded_header_is_ignored(officer):
    client = browser("198.51.100.20")
    log_in(client, "officer", "wrong", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.20"


def test_behind_one_trusted_proxy_the_address_it_saw_is_counted(officer, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = browser("127.0.0.1")
    # The client sent its own X-Forwarded-For ("10.9.9.9"); the proxy appended the address it saw.
    for _ in range(django_settings.LOGIN_ACCOUNT_FAILURE_LIMIT // 2):
        log_in(proxy, "officer", "wrong", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.30")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.30"}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "127.0.0.1"),
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "10.0.0.1, 192.0.2.1", "192.0.2.1"),
        (2, "10.0.0.1, 192.0.2.1, 172.16.0.1", "192.0.2.1"),
        (2, "192.0.2.1", "127.0.0.1"),  # fewer entries than proxies: not through them all
        (1, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
        (1, " 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_client_address_takes_the_entry_the_outermost_trusted_proxy_wrote(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_the_dossier_download_log_records_the_same_client_address(org, settings):
    """Log-in throttling and the download log share one answer to "where did this come from"."""
    settings.TRUSTED_PROXIES = 1
    nomination = make_nomination(org)
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary)
    client = browser("127.0.0.1")
    client.force_login(org.hospital_secretary)

    response = client.get(
        reverse("processes:dossier-download", args=[dossier_file.pk]),
        HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.40",
    )

    assert response.status_code == 200
    assert DossierDownload.objects.get().ip_address == "198.51.100.40"
