"""My work: everything waiting for the signed-in user, and approving several steps at once."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from processes.context_processors import remember_count
from processes.forms import errors_text
from processes.permissions import user_scope
from processes.selectors.dashboard import forwarding_target_warnings
from processes.selectors.my_work import BADGE_LABELS, my_work
from processes.services import nomination_decide
from processes.work_forms import BulkApproveForm
from workflow.errors import WorkflowError
from workflow.models import StepAction


@require_GET
def my_work_view(request):
    scope = user_scope(request.user)
    work = my_work(request.user, scope=scope)
    if not work.truncated:
        remember_count(request, len(work.rows), scope=scope)
    return render(request, "processes/my_work.html", {"work": work, "badges": BADGE_LABELS})


@require_http_methods(["GET", "POST"])
def bulk_approve(request):
    """GET: the confirmation, listing the chosen steps; POST: each decided in its own transaction
    (``nomination_decide``), a refusal reported by name without undoing the others."""
    form = BulkApproveForm(request.POST if request.method == "POST" else request.GET, user=request.user)
    if not form.is_valid():
        if request.method == "GET":
            messages.error(request, errors_text(form))
            return redirect("processes:my-work")
        return render(request, "processes/bulk_approve.html", {"form": form, "refused_form": True}, status=400)
    if request.method == "GET":
        warnings = forwarding_target_warnings((chosen.task, chosen.nomination) for chosen in form.chosen)
        # One warning per level and campaign, however many of its cases are chosen.
        target_warnings = list(dict.fromkeys(text for texts in warnings.values() for text in texts))
        return render(
            request,
            "processes/bulk_approve.html",
            {"form": form, "chosen": form.chosen, "target_warnings": target_warnings},
        )
    decided, refused = [], []
    for chosen in form.chosen:
        try:
            nomination_decide(
                task_id=chosen.task.pk,
                by=request.user,
                action=StepAction.APPROVE,
                comment=form.cleaned_data["comment"],
                expected_version=chosen.version,
            )
        except WorkflowError as error:
            refused.append((chosen, str(error)))
        else:
            decided.append(chosen)
    if decided:
        messages.success(request, _("Approved: %(count)s step(s).") % {"count": len(decided)})
    if refused:
        messages.error(request, _("Not approved: %(count)s step(s); see why below.") % {"count": len(refused)})
    return render(
        request,
        "processes/bulk_result.html",
        {"decided": decided, "refused": refused},
        status=200 if decided or not refused else 409,
    )
