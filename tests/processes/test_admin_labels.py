"""The admin in Vietnamese: no English section left on the index, what administrators should not
touch hidden or read-only, and lists that show names rather than codes."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt, AccessLog
from django.test import Client
from django.urls import NoReverseMatch, reverse

from processes.models import AwardForm, ChainAssignment

pytestmark = pytest.mark.django_db

#: The headings and model names the index showed in English before: third-party apps without a
#: Vietnamese catalogue.
ENGLISH_ON_THE_INDEX = (
    "Periodic Tasks",
    "Periodic tasks",
    "Clocked",
    "Crontabs",
    "Intervals",
    "Solar events",
    "Workflow",
    "Process list",
    "Tasks",
    "Axes",
    "Access attempts",
    "Access failures",
    "Access logs",
)


@pytest.fixture
def vietnamese_admin(settings, org):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    client.force_login(org.admin)
    return client


def _index_names(page) -> list[str]:
    """The section headings and model names of the rendered admin index."""
    html = page.content.decode()
    cells = re.findall(r"<caption>(.*?)</caption>|<th scope=\"row\"[^>]*>(.*?)</th>", html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", caption or row).split()) for caption, row in cells]


def test_the_admin_index_has_no_english_heading_left(vietnamese_admin):
    names = _index_names(vietnamese_admin.get(reverse("admin:index")))
    assert "Thi đua - Khen thưởng" in names
    assert "Quy trình xử lý" in names
    assert "Giới hạn đăng nhập" in names
    assert "Các lượt đăng nhập sai" in names
    assert [name for name in names if name in ENGLISH_ON_THE_INDEX] == []


@pytest.mark.parametrize(
    "url",
    [
        "/admin/django_celery_beat/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/django_celery_beat/periodictask/add/",
        "/admin/django_celery_beat/crontabschedule/",
        "/admin/viewflow/",
        "/admin/viewflow/process/",
        "/admin/viewflow/task/",
    ],
)
def test_beat_rows_and_viewflows_internals_are_not_in_the_admin(vietnamese_admin, url):
    assert vietnamese_admin.get(url).status_code == 404


def test_beat_and_viewflow_have_no_admin_url_left():
    for name in ("admin:django_celery_beat_periodictask_changelist", "admin:viewflow_process_changelist"):
        with pytest.raises(NoReverseMatch):
            reverse(name)


def test_log_in_records_are_read_only_but_an_attempt_may_be_deleted_to_lift_a_lock(vietnamese_admin):
    attempt = AccessAttempt.objects.create(
        username="hoa", ip_address="10.0.0.1", user_agent="x", http_accept="*/*", path_info="/", failures_since_start=3
    )
    log = AccessLog.objects.create(
        username="hoa", ip_address="10.0.0.1", user_agent="x", http_accept="*/*", path_info="/"
    )
    change = reverse("admin:axes_accessattempt_change", args=[attempt.pk])
    page = vietnamese_admin.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert vietnamese_admin.post(change, {"username": "other", "failures_since_start": "0"}).status_code == 403
    attempt.refresh_from_db()
    assert (attempt.username, attempt.failures_since_start) == ("hoa", 3)
    assert vietnamese_admin.get(reverse("admin:axes_accessattempt_add")).status_code == 403

    log_delete = reverse("admin:axes_accesslog_delete", args=[log.pk])
    assert vietnamese_admin.post(log_delete, {"post": "yes"}).status_code == 403
    assert AccessLog.objects.filter(pk=log.pk).exists()

    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert vietnamese_admin.post(delete, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_award_forms_are_listed_by_name_with_the_code_a_secondary_column(vietnamese_admin, org):
    AwardForm.objects.filter(pk=org.city_form.pk).update(name="Bằng khen của Chủ tịch UBND thành phố")
    html = vietnamese_admin.get(reverse("admin:processes_awardform_changelist")).content.decode()
    rows = re.findall(r"<tr[^>]*>(?:(?!<tr).)*?</tr>", html, re.S)
    row = next(row for row in rows if "Bằng khen của Chủ tịch UBND thành phố" in row)
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    # The first column (the link) is the name; the code comes last.
    assert "Bằng khen của Chủ tịch UBND thành phố" in cells[1]
    assert "BK_CT_UBND_TP" in cells[-1]


def test_chain_assignments_and_nominations_show_form_and_template_names(vietnamese_admin, org):
    AwardForm.objects.filter(pk=org.city_form.pk).update(name="Bằng khen của Chủ tịch UBND thành phố")
    assignment = ChainAssignment.objects.select_related("award_form", "template").get(
        award_form=org.city_form, procedure=""
    )
    assert str(assignment).startswith("Bằng khen của Chủ tịch UBND thành phố / ")
    assert "BK_CT_UBND_TP" not in str(assignment)
    html = vietnamese_admin.get(reverse("admin:processes_chainassignment_changelist")).content.decode()
    assert "Bằng khen của Chủ tịch UBND thành phố" in html
    assert assignment.template.name in html
    assert ">BK_CT_UBND_TP<" not in html
