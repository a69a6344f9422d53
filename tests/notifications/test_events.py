"""Tasks that are not approval steps are told too: a ballot in a council session, an opinion asked of
an agency; and the Board hears when an agency answers."""

from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Channel, Event, Outbox
from processes import services
from tests.factories import approve_until, holders, open_step, submitted
from tests.workflow.test_council_posting_consultation import at_council, session_for, tax_department

with translation.override("vi"):  # notifications are written in Vietnamese
    ALL_ANSWERED = gettext("Every agency asked has now answered.")


def told(event):
    return sorted(
        Outbox.objects.filter(event=event, channel=Channel.IN_APP).values_list("recipient__username", flat=True)
    )


def test_every_council_member_is_told_a_ballot_awaits_them(org):
    _nomination, task = at_council(org)
    members = sorted(user.username for user in holders(task))
    session = session_for(org, task)
    assert told(Event.BALLOT) == members
    row = Outbox.objects.filter(event=Event.BALLOT).first()
    assert session.title in row.subject
    assert row.link == f"/council/sessions/{session.pk}/"


def test_an_agency_asked_for_its_opinion_is_told_and_the_board_hears_its_answer(org):
    tax, tax_secretary = tax_department(org)
    nomination = approve_until(submitted(org), "board_appraisal")
    task = open_step(nomination)
    asked = services.consultation_request(
        task_id=task.pk,
        by=org.board_officer,
        agencies=[(tax, "", 5), (None, "Bảo hiểm xã hội thành phố", 3)],
        question="Đề nghị cho ý kiến về việc chấp hành pháp luật thuế",
    )
    # The tax department's secretary; the insurance agency is outside the tree: the Board records it.
    assert told(Event.OPINION_ASKED) == ["tax_secretary"]
    row = Outbox.objects.get(event=Event.OPINION_ASKED, channel=Channel.IN_APP)
    assert "Cục Thuế thành phố" in row.subject
    assert "chấp hành pháp luật thuế" in row.body
    assert row.link == f"/consultations/{asked[0].pk}/"

    services.consultation_answer(consultation_id=asked[0].pk, by=tax_secretary, answer="Không có vi phạm")
    assert told(Event.OPINION_ANSWERED) == ["board_officer"]
    answer = Outbox.objects.get(event=Event.OPINION_ANSWERED, channel=Channel.IN_APP)
    assert "Không có vi phạm" in answer.body
    assert ALL_ANSWERED not in answer.body  # the insurance agency has not

    services.consultation_answer(consultation_id=asked[1].pk, by=org.board_officer, answer="Đã đóng đủ")
    last = Outbox.objects.filter(event=Event.OPINION_ANSWERED, channel=Channel.IN_APP).order_by("pk").last()
    assert ALL_ANSWERED in last.body
