"""Running chains and council sessions in the admin: shown, never changed there, ballots never shown."""

from django.urls import reverse

from processes.models import Role
from tests.factories import UserFactory, approve_until, hold_session, member, open_step, submitted
from workflow.models import ApprovalProcess, Ballot, VoteSession


def test_the_admin_shows_a_case_chain_and_a_closed_session_without_any_ballot(client, org):
    org.city_form.council_vote = True
    org.city_form.save()
    member(UserFactory(username="council_two"), org.council, Role.MEMBER)
    nomination = approve_until(submitted(org), "council_review")
    hold_session(open_step(nomination), choice="yes")
    client.force_login(org.admin)

    process = ApprovalProcess.objects.get()
    session = VoteSession.objects.get()
    for name, pk in (("approvalprocess", process.pk), ("votesession", session.pk)):
        assert client.get(reverse(f"admin:workflow_{name}_changelist")).status_code == 200
        page = client.get(reverse(f"admin:workflow_{name}_change", args=[pk]))
        assert page.status_code == 200
        assert client.post(reverse(f"admin:workflow_{name}_change", args=[pk]), {}).status_code == 403
    appraisal = process.approval_tasks.get(step__code="board_appraisal").step.name
    assert appraisal in client.get(reverse("admin:workflow_approvalprocess_change", args=[process.pk])).text
    ballot_ids = [str(ballot.pk) for ballot in Ballot.objects.all()]
    assert ballot_ids
    page = client.get(reverse("admin:workflow_votesession_change", args=[session.pk])).text
    assert not any(ballot_id in page for ballot_id in ballot_ids)
    assert client.get("/admin/workflow/ballot/").status_code == 404
