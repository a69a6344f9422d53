"""Every user can change their password, and reset a forgotten one by email (Vietnamese, end to end)."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.notifications.conftest import real_services, smtp_sink  # noqa: F401 - fixtures

SITE = "https://thidua.example.gov.vn"
NEW_PASSWORD = "Hoa-sen-nở-2026"


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", email="officer@thidua.example", first_name="Lan", last_name="Nguyễn")


def vietnamese_client(**extra) -> Client:
    return Client(REMOTE_ADDR="198.51.100.1", **extra)  # no language cookie: the default, Vietnamese


def english_client() -> Client:
    client = Client(REMOTE_ADDR="198.51.100.1")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def logs_in(username, password) -> bool:
    client = english_client()
    client.post(reverse("login"), {"username": username, "password": password})
    return SESSION_KEY in client.session


# --- change -----------------------------------------------------------------------------------------


def test_every_page_offers_a_signed_in_user_the_password_change(officer):
    client = english_client()
    client.force_login(officer)
    page = client.get(reverse("processes:nomination-list")).content.decode()
    assert f'href="{reverse("password_change")}"' in page


def test_a_user_changes_their_password_and_stays_signed_in(officer):
    client = english_client()
    client.force_login(officer)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    done = client.get(response["Location"])
    assert "Your password has been changed" in done.content.decode()  # still signed in
    assert logs_in("officer", NEW_PASSWORD)
    assert not logs_in("officer", "pw")


def test_a_wrong_old_password_or_a_weak_new_one_is_explained_in_vietnamese(officer):
    client = vietnamese_client()
    client.force_login(officer)
    response = client.post(
        reverse("password_change"), {"old_password": "nope", "new_password1": "123", "new_password2": "123"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Mật khẩu cũ không chính xác" in page
    assert "Mật khẩu quá ngắn: phải có ít nhất 8 ký tự." in page
    assert "Mật khẩu này hoàn toàn là số." in page
    assert "Đổi mật khẩu" in page
    assert logs_in("officer", "pw")


def test_the_password_change_page_needs_a_log_in(db):
    response = english_client().get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- reset by email -------------------------------------------------------------------------------------


def reset_link(body: str) -> str:
    [link] = re.findall(r"https?://\S+/accounts/password/reset/\S+/\S+/", body)
    return link


def choose_new_password(client, link: str, password: str):
    path = link.removeprefix(SITE)
    form = client.get(path, follow=True)  # Django moves the token into the session, then shows the form
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode()
    return client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_the_login_page_links_to_the_password_reset(db):
    page = english_client().get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page


def test_a_forgotten_password_is_reset_through_a_vietnamese_email(officer, settings):
    settings.NOTIFICATION_SITE_URL = SITE + "/"
    client = vietnamese_client()
    form = client.get(reverse("password_reset"))
    assert "Đặt lại mật khẩu" in form.content.decode()

    response = client.post(reverse("password_reset"), {"email": "OFFICER@thidua.example"})
    assert response.status_code == 302
    sent = client.get(response["Location"]).content.decode()
    assert "Hãy kiểm tra email" in sent

    [message] = mail.outbox
    assert message.to == ["officer@thidua.example"]
    assert message.subject == "Đặt lại mật khẩu Thi đua - Khen thưởng"
    assert "Xin chào Lan Nguyễn," in message.body
    assert "Tên đăng nhập của bạn là: officer" in message.body
    link = reset_link(message.body)
    assert link.startswith(SITE + "/accounts/password/reset/")  # the site's address, not the request's Host

    done = choose_new_password(vietnamese_client(), link, NEW_PASSWORD)
    assert done.status_code == 302
    assert "Mật khẩu mới của bạn đã được lưu" in vietnamese_client().get(done["Location"]).content.decode()
    assert logs_in("officer", NEW_PASSWORD)
    assert not logs_in("officer", "pw")

    # The link works once.
    again = vietnamese_client().get(link.removeprefix(SITE), follow=True).content.decode()
    assert "Đường dẫn này không hợp lệ" in again


def test_an_unknown_address_gets_the_same_answer_and_no_email(officer):
    client = english_client()
    response = client.post(reverse("password_reset"), {"email": "nobody@thidua.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_the_reset_email_goes_out_through_a_real_smtp_server(officer, settings, smtp_sink):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.NOTIFICATION_SITE_URL = SITE

    vietnamese_client().post(reverse("password_reset"), {"email": "officer@thidua.example"})

    [received] = smtp_sink.received
    assert received.envelope_to == ["officer@thidua.example"]
    assert received.message["Subject"].strip() == "Đặt lại mật khẩu Thi đua - Khen thưởng"  # folded after "Subject:"
    body = received.message.get_content()
    assert "Có người, có lẽ là bạn, đã yêu cầu đặt lại mật khẩu" in body
    done = choose_new_password(vietnamese_client(), reset_link(body), NEW_PASSWORD)
    assert done.status_code == 302
    assert logs_in("officer", NEW_PASSWORD)
