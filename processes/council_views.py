"""Screens of the council (sessions and secret ballots), public posting (objections) and
consultation of other agencies. Every write goes through ``processes.services``."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from processes import services
from processes.council_forms import BallotForm, SessionOpenForm
from processes.forms import ConsultationAnswerForm, ConsultationForm, ObjectionForm, errors_text
from processes.models import Consultation
from processes.permissions import can_view, user_scope
from processes.selectors import case_labels
from processes.views import _refused, _step_of, visible_nomination_or_404
from workflow.errors import WorkflowError
from workflow.models import VoteRecusal, VoteSession
from workflow.voting import VoteError, awaiting_council, ballot_refusal, ballot_task, recusals_of

# --- council sessions ----------------------------------------------------------------------------


def council(request):
    """The cases awaiting a council the user may convene, and the sessions they take part in."""
    scope = user_scope(request.user)
    waiting = [
        task for task in awaiting_council() if services.may_open_session(request.user, task.unit_id, scope=scope)
    ]
    labels = case_labels([task.process for task in waiting])
    rows = [(task, labels.get(task.process_id, "")) for task in waiting]
    status = 200
    if request.method == "POST":
        form = SessionOpenForm(request.POST, waiting=rows)
        if form.is_valid():
            try:
                session = services.council_session_open(
                    by=request.user,
                    title=form.cleaned_data["title"],
                    tasks=form.cleaned_data["task"],
                    closes_at=form.closes_at,
                )
            except WorkflowError as error:
                messages.error(request, str(error))
                status = 409
            else:
                messages.success(request, _("Session opened: each member now has a ballot."))
                return redirect("processes:council-session", pk=session.pk)
        else:
            messages.error(request, _("The session was not opened: see what to correct below."))
            status = 400
    else:
        form = SessionOpenForm(waiting=rows, initial={"closes_on": timezone.localdate() + timedelta(days=7)})
    sessions = services.sessions_visible_to(request.user, scope=scope).order_by("-opened_at")[:50]
    chosen = form.chosen()
    return render(
        request,
        "processes/council.html",
        {
            "waiting": [(task, label, str(task.pk) in chosen) for task, label in rows],
            "form": form,
            "sessions": sessions,
        },
        status=status,
    )


def council_session(request, pk):
    session = get_object_or_404(VoteSession, pk=pk)
    if not services.may_see_session(request.user, session):
        raise Http404
    items = list(
        session.items.order_by("pk").prefetch_related(
            Prefetch("recusals", queryset=VoteRecusal.objects.select_related("user").order_by("pk"))
        )
    )
    recused = recusals_of(session, request.user)
    form = None
    status = 200
    if request.method == "POST":
        refusal = ballot_refusal(session, request.user)
        if refusal is not None:
            messages.error(request, str(refusal))
            status = 403 if isinstance(refusal, VoteError) else 409
        else:
            form = BallotForm(request.POST, items=items, recused=recused)
            if form.is_valid():
                try:
                    services.council_vote(session_id=session.pk, by=request.user, choices=form.choices())
                except WorkflowError as error:
                    messages.error(request, str(error))
                    status = 409
                else:
                    messages.success(request, _("Your ballot is recorded. Results are shown when the session closes."))
                    return redirect("processes:council-session", pk=session.pk)
            else:
                messages.error(request, _("Your ballot was not recorded: see what to correct below."))
                status = 400
        session.refresh_from_db()
    my_ballot = ballot_task(session, request.user) if not session.is_closed else None
    if my_ballot is None:
        form = None
    elif form is None:
        form = BallotForm(items=items, recused=recused)
    return render(
        request,
        "processes/council_session.html",
        {
            "session": session,
            "items": items,
            "ballot": form,
            "voted_at": session.receipts.filter(user_id=request.user.pk).values_list("voted_at", flat=True).first(),
            "voted": session.receipts.count(),
        },
        status=status,
    )


# --- public posting: objections ------------------------------------------------------------------


@require_POST
def objection_new(request, pk):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = ObjectionForm(request.POST)
    posted = {"objection_author": form.data.get("author", ""), "objection": form.data.get("content", "")}
    if not form.is_valid():
        return _refused(request, nomination, message=errors_text(form), posted=posted, status=400)
    try:
        services.objection_record(
            nomination=nomination,
            by=request.user,
            author=form.cleaned_data["author"],
            content=form.cleaned_data["content"],
        )
    except WorkflowError as error:
        return _refused(request, nomination, message=str(error), posted=posted, status=409)
    messages.success(request, _("Objection recorded; the Board settles it when the posting ends."))
    return redirect("processes:nomination-detail", pk=nomination.pk)


# --- consultation --------------------------------------------------------------------------------


@require_POST
def consultation_new(request, pk, task_id):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    task = _step_of(nomination, task_id)
    form = ConsultationForm(request.POST)
    if not form.is_valid():
        return _refused(request, nomination, message=errors_text(form), posted={}, status=400)
    data = form.cleaned_data
    try:
        services.consultation_request(
            task_id=task.pk,
            by=request.user,
            agencies=[(data["agency"], data["agency_name"], data["working_days"])],
            question=data["question"],
        )
    except WorkflowError as error:
        return _refused(request, nomination, message=str(error), posted={}, status=409)
    messages.success(request, _("Opinion requested; the appraisal's deadline is now 20 working days."))
    return redirect("processes:nomination-detail", pk=nomination.pk)


def consultation_detail(request, pk):
    """The question put to an agency and its answer: for the agency (who may not see the whole case)
    and the Board."""
    consultation = get_object_or_404(
        Consultation.objects.select_related("nomination__nominee", "nomination__award_form", "requested_by"), pk=pk
    )
    may_answer = services.may_answer(request.user, consultation)
    if not (may_answer or can_view(request.user, consultation.nomination)):
        raise Http404
    form = ConsultationAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, errors_text(form))
            status = 400
        else:
            try:
                services.consultation_answer(
                    consultation_id=consultation.pk, by=request.user, answer=form.cleaned_data["answer"]
                )
            except WorkflowError as error:
                messages.error(request, str(error))
                status = 409
            else:
                messages.success(request, _("The agency's opinion is recorded on the case."))
                return redirect("processes:consultation", pk=consultation.pk)
    return render(
        request,
        "processes/consultation.html",
        {
            "consultation": consultation,
            "may_answer": may_answer and consultation.answered_at is None,
            "answer": form.data.get("answer", ""),
        },
        status=status,
    )
