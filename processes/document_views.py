"""The papers in the browser (print views) and as .docx (downloads): a signed decision and its
certificates list, a council session's vote-count minutes, a unit's proposal and summary list.

Who may open them is asked of ``processes.permissions``: a decision's papers, whoever may see one of
its awardees' cases; the minutes, whoever may see the session (only once it is closed); a unit's
papers, whoever may see that unit's proposed cases in the campaign (and the papers list only those).
Anything else answers 404, as an object that does not exist.
"""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from processes import documents
from processes.document_forms import UnitPapersForm
from processes.models import AwardDecision, Campaign, OrganisationUnit
from processes.permissions import may_see_decision, may_see_session, nominations_visible_to, user_scope
from workflow.models import VoteSession


def _docx(data: bytes, filename: str) -> HttpResponse:
    """``filename`` is built from ASCII words and numbers only, so the header needs no encoding."""
    response = HttpResponse(data, content_type=documents.DOCX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- a signed decision ---------------------------------------------------------------------------


def _award_decision_or_404(request, pk) -> AwardDecision:
    document = get_object_or_404(AwardDecision.objects.select_related("issuer", "signer"), pk=pk)
    if not may_see_decision(request.user, document):
        raise Http404
    return document


def _decision_name(document: AwardDecision, what: str) -> str:
    return f"{what}-{document.year}-{document.sequence}.docx"


@require_GET
def decision_print(request, pk):
    document = _award_decision_or_404(request, pk)
    paper = documents.decision_paper(document)
    return render(
        request,
        "processes/documents/decision_print.html",
        {
            "document": document,
            "paper": paper,
            "columns": documents.awardee_columns(),
            "rows": documents.awardee_rows(paper),
            "paper_language": documents.document_language(),
        },
    )


@require_GET
def decision_docx(request, pk):
    document = _award_decision_or_404(request, pk)
    data = documents.decision_docx(documents.decision_paper(document))
    return _docx(data, _decision_name(document, "decision"))


@require_GET
def decision_certificates(request, pk):
    document = _award_decision_or_404(request, pk)
    data = documents.certificates_docx(documents.decision_paper(document))
    return _docx(data, _decision_name(document, "certificates"))


# --- a council session's minutes -----------------------------------------------------------------


def _closed_session_or_404(request, pk) -> VoteSession:
    session = get_object_or_404(VoteSession, pk=pk)
    # Open sessions have no result to count yet.
    if not session.is_closed or not may_see_session(request.user, session):
        raise Http404
    return session


@require_GET
def minutes_print(request, pk):
    session = _closed_session_or_404(request, pk)
    paper = documents.minutes_paper(session)
    return render(
        request,
        "processes/documents/minutes_print.html",
        {
            "session": session,
            "paper": paper,
            "columns": documents.count_columns(),
            "rows": documents.count_rows(paper),
            "paper_language": documents.document_language(),
        },
    )


@require_GET
def minutes_docx(request, pk):
    session = _closed_session_or_404(request, pk)
    return _docx(documents.minutes_docx(documents.minutes_paper(session)), f"minutes-session-{session.pk}.docx")


# --- a unit's proposal and summary list ----------------------------------------------------------


@require_GET
def unit_papers(request):
    """Choose a unit and a campaign; the page then links to their papers."""
    nominations = nominations_visible_to(request.user, scope=user_scope(request.user))
    form = UnitPapersForm(request.GET or None, nominations=nominations)
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else None
    return render(
        request,
        "processes/documents/unit_papers.html",
        {"form": form, "chosen": chosen},
        status=400 if form.is_bound and not chosen else 200,
    )


def _unit_paper(request, unit_id: int, campaign_id: int, day: date):
    unit = get_object_or_404(OrganisationUnit, pk=unit_id)
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    nominations = documents.proposed_nominations(nominations_visible_to(request.user), unit=unit, campaign=campaign)
    paper = documents.proposal_paper(unit=unit, campaign=campaign, nominations=nominations, day=day)
    if not paper.lines:
        raise Http404
    return unit, campaign, paper


@require_GET
def proposal_print(request, unit, campaign):
    unit, campaign, paper = _unit_paper(request, unit, campaign, timezone.localdate())
    return render(
        request,
        "processes/documents/proposal_print.html",
        {"unit": unit, "campaign": campaign, "paper": paper, "paper_language": documents.document_language()},
    )


@require_GET
def proposal_docx(request, unit, campaign):
    unit, campaign, paper = _unit_paper(request, unit, campaign, timezone.localdate())
    return _docx(documents.proposal_docx(paper), f"proposal-unit-{unit.pk}-campaign-{campaign.pk}.docx")


@require_GET
def summary_list_print(request, unit, campaign):
    unit, campaign, paper = _unit_paper(request, unit, campaign, timezone.localdate())
    return render(
        request,
        "processes/documents/summary_list_print.html",
        {
            "unit": unit,
            "campaign": campaign,
            "paper": paper,
            "columns": documents.summary_columns(),
            "rows": documents.summary_rows(paper),
            "paper_language": documents.document_language(),
        },
    )


@require_GET
def summary_list_docx(request, unit, campaign):
    unit, campaign, paper = _unit_paper(request, unit, campaign, timezone.localdate())
    return _docx(documents.summary_list_docx(paper), f"summary-list-unit-{unit.pk}-campaign-{campaign.pk}.docx")
