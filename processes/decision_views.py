"""Signed award decisions: signing one for several cases, the decisions a user may see, and one
decision with its awardees."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from processes.decision_forms import DecisionPageForm, SignDecisionForm
from processes.forms import errors_text
from processes.permissions import decisions_visible_to, user_scope
from processes.selectors.signing import awaiting_signature, decision_awardees, decision_list
from processes.services import NonWorkingDay, decision_sign
from workflow.errors import WorkflowError

#: Decisions per page of the list.
PAGE_SIZE = 50


@require_GET
def decision_sign_page(request):
    """The cases awaiting the user's signature, to choose those one decision awards."""
    return render(
        request,
        "processes/decision_sign.html",
        {"awaiting": awaiting_signature(request.user), "form": SignDecisionForm(user=request.user)},
    )


@require_http_methods(["GET", "POST"])
def decision_sign_confirm(request):
    """GET: the confirmation, with the cases chosen, the date and (on a day off) the confirmation it
    needs; POST: one decision for them all, or nothing (a refusal names the case)."""
    form = SignDecisionForm(request.POST if request.method == "POST" else request.GET, user=request.user)
    if not form.is_valid():
        if request.method == "GET":
            messages.error(request, errors_text(form))
            return redirect("processes:decision-sign")
        return render(request, "processes/decision_sign_confirm.html", {"form": form, "refused_form": True}, status=400)
    context = {"form": form, "chosen": form.chosen, "off_day": form.off_day}
    if request.method == "GET":
        return render(request, "processes/decision_sign_confirm.html", context)
    data = form.cleaned_data
    try:
        document = decision_sign(
            by=request.user,
            task_ids=[chosen.task.pk for chosen in form.chosen],
            signed_on=data["signed_on"],
            confirm_non_working_day=data["confirm_non_working_day"],
            expected_versions={chosen.task.pk: chosen.version for chosen in form.chosen},
            comment=data["comment"],
        )
    except NonWorkingDay as error:
        messages.error(request, str(error))
        return render(request, "processes/decision_sign_confirm.html", {**context, "off_day": True}, status=409)
    except WorkflowError as error:
        messages.error(request, str(error))
        return render(request, "processes/decision_sign_confirm.html", context, status=409)
    messages.success(
        request,
        _("Decision no. %(number)s signed, awarding %(count)s case(s).")
        % {"number": document.number, "count": len(form.chosen)},
    )
    return redirect("processes:decision-detail", pk=document.pk)


@require_GET
def decision_list_view(request):
    form = DecisionPageForm(request.GET)
    page_number = form.cleaned_data.get("page") if form.is_valid() else None
    if not form.is_valid():
        messages.error(request, errors_text(form))
    page = Paginator(decision_list(request.user, scope=user_scope(request.user)), PAGE_SIZE).get_page(page_number)
    return render(request, "processes/decision_list.html", {"page": page}, status=200 if form.is_valid() else 400)


@require_GET
def decision_detail(request, pk):
    scope = user_scope(request.user)
    # A decision none of whose awardees the user may see does not exist for them.
    decision = get_object_or_404(
        decisions_visible_to(request.user, scope=scope).select_related("issuer", "signer"), pk=pk
    )
    return render(
        request,
        "processes/decision_detail.html",
        {"decision": decision, "awardees": decision_awardees(decision, request.user, scope=scope)},
    )
