"""The approval step on the case's page: who holds it, when it is due, deciding and reassigning it."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.models import Stage
from tests.factories import approve_until, holders, open_step, submitted
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask


def _detail(nomination):
    return reverse("processes:nomination-detail", args=[nomination.pk])


def _decide(nomination, task, **data):
    return reverse("processes:step-decide", args=[nomination.pk, task.pk]), data


def test_the_case_page_shows_each_open_step_with_its_holder_and_due_time(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_secretary)
    page = client.get(_detail(nomination)).text
    assert task.step.name in page
    assert org.hospital_head.get_full_name() in page
    assert timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M") in page


def test_the_holder_approves_on_the_page_and_the_next_step_opens(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_head)
    response = client.post(*_decide(nomination, task, action="approve"))
    assert response.status_code == 302
    assert response["Location"] == _detail(nomination)  # the head still sees the case, through the tree
    assert open_step(nomination).step.code == "proposer_submit"
    assert [holder.username for holder in holders(open_step(nomination))] == ["director"]


def test_a_second_click_on_a_decided_step_says_who_decided_and_changes_nothing(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_head)
    client.post(*_decide(nomination, task, action="approve"))
    entries = audit_entries_for(nomination).count()
    again = client.post(*_decide(nomination, task, action="reject", comment="Nhầm"))
    assert again.status_code == 409
    assert "already decided by" in again.text
    assert audit_entries_for(nomination).count() == entries
    assert open_step(nomination).step.code == "proposer_submit"


def test_return_without_a_reason_keeps_the_page_and_loses_nothing(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_head)
    response = client.post(*_decide(nomination, task, action="return", comment="  "))
    assert response.status_code == 409
    assert open_step(nomination).pk == task.pk


def test_someone_not_holding_the_step_cannot_decide_it(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_secretary)  # sees the case, does not hold the step
    response = client.post(*_decide(nomination, task, action="approve"))
    assert response.status_code == 409
    assert open_step(nomination).pk == task.pk


def test_a_step_of_another_case_is_not_found(client, org):
    mine = submitted(org)
    other = submitted(org)
    client.force_login(org.hospital_head)
    response = client.post(*_decide(mine, open_step(other), action="approve"))
    assert response.status_code == 404
    assert open_step(other).step.code == "unit_confirm"


def test_an_outsider_cannot_see_or_decide(client, org):
    nomination = submitted(org)
    client.force_login(org.outsider)
    assert client.get(_detail(nomination)).status_code == 404
    assert client.post(*_decide(nomination, open_step(nomination), action="approve")).status_code == 404


def test_the_last_step_signs_a_decision_the_product_numbers(client, org):
    org.city.decision_symbol = "QĐ-UBND"
    org.city.save()
    nomination = approve_until(submitted(org))
    client.force_login(org.chairman)
    page = client.get(_detail(nomination)).text
    assert 'name="decision_number"' not in page  # nobody types a number any more
    # Confirmed in case the test runs on a weekend or a holiday (signing is dated today).
    decide = _decide(nomination, open_step(nomination), action="approve", confirm_non_working_day="on")
    response = client.post(*decide)
    assert response.status_code == 302
    nomination.refresh_from_db()
    assert (nomination.stage, nomination.decision.number) == (Stage.REPLICATE, "1/QĐ-UBND")
    assert nomination.decision.document.number == "1/QĐ-UBND"
    assert "award decision no. 1/QĐ-UBND recorded" in client.get(_detail(nomination)).text


def test_the_secretary_reassigns_a_step_with_a_reason(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_secretary)
    url = reverse("processes:step-reassign", args=[nomination.pk, task.pk])
    assert client.post(url, {"to": org.hospital_deputy.pk, "reason": ""}).status_code == 400
    assert client.post(url, {"to": org.hospital_deputy.pk, "reason": "Trưởng đơn vị đi công tác"}).status_code == 302
    assert holders(open_step(nomination)) == [org.hospital_deputy]
    assert audit_entries_for(nomination).last().action == "processes.nomination.step_reassigned"


def test_inbox_lists_the_steps_i_hold_with_constant_queries(client, org):
    client.force_login(org.hospital_head)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("processes:inbox"))
        assert response.status_code == 200
        return len(captured), response.text

    first = submitted(org)
    few, page = queries()
    assert first.nominee.name in page
    for _ in range(4):
        submitted(org)
    many, page = queries()
    assert many == few
    client.force_login(org.director)
    assert first.nominee.name not in client.get(reverse("processes:inbox")).text


def test_a_delegate_holding_a_step_sees_the_case(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.admin)
    from processes.services import step_reassign

    step_reassign(task_id=task.pk, to=org.hospital_deputy, by=org.admin, reason="Ủy quyền")
    client.force_login(org.hospital_deputy)
    assert client.get(_detail(nomination)).status_code == 200


def test_the_list_shows_each_cases_open_step_and_due_date_with_constant_queries(client, org):
    client.force_login(org.hospital_secretary)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("processes:nomination-list"))
        return len(captured), response.text

    first = submitted(org)
    few, page = queries()
    task = open_step(first)
    assert f"{task.step.name} · due {timezone.localtime(task.due_at).strftime('%d/%m/%Y')}" in page
    for _ in range(4):
        approve_until(submitted(org), "board_intake")
    many, page = queries()
    assert many == few
    table = page[page.index("<tbody>") :]  # the filters list every step's name once, above the table
    assert table.count(open_step(first).step.name) == 1


def test_the_inbox_pages_by_due_time_without_skipping_or_repeating_a_step(org):
    from processes.selectors import inbox_page

    for _ in range(5):
        submitted(org)
    seen, cursor = [], None
    while True:
        page = inbox_page(user=org.hospital_head, cursor=cursor, size=2)
        seen += [task.pk for task, _nomination in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [task.pk for task in ApprovalTask.objects.filter(closed_at__isnull=True).order_by("due_at", "pk")]
    assert seen == expected
    assert len(seen) == 5
