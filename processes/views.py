from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from processes import errors
from processes.forms import (
    ConsultationForm,
    NominationEditForm,
    NominationForm,
    NomineeChoiceForm,
    NomineeForm,
    PageForm,
    ReassignForm,
    StepDecisionForm,
    TransitionForm,
    errors_text,
)
from processes.models import (
    DocumentType,
    Nomination,
    OrganisationUnit,
    Procedure,
)
from processes.permissions import C, can_edit, can_view, capacities, nominees_proposable_by, user_scope
from processes.replication_forms import replication_panel
from processes.selectors import (
    approval_steps,
    available_actions,
    case_route,
    case_warnings,
    consultations_for,
    decision_message,
    inbox_page,
    nomination_timeline,
)
from processes.selectors.dashboard import forwarding_target_warnings
from processes.selectors.signing import is_signing_step
from processes.services import (
    REASON_REQUIRED,
    decision_sign,
    nomination_act,
    nomination_create,
    nomination_decide,
    nomination_update,
    nominee_create,
    step_reassign,
)
from workflow.calendar import is_working_day
from workflow.errors import WorkflowError
from workflow.models import ApprovalTask, StepAction
from workflow.voting import open_ballots

#: Dossier files a browser shows by itself (``dossier_views.dossier_preview`` serves them inline).
PREVIEWABLE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})

ACTION_LABELS = {
    "start_cultivation": _("Start cultivation"),
    "submit": _("Submit for approval"),
    "submit_simplified": _("Submit (simplified procedure)"),
    "return_for_completion": _("Return for completion"),
    "resubmit": _("Resubmit"),
    "reject": _("Reject"),
    "award": _("Record the award decision"),
    "close": _("Close the case"),
    "withdraw": _("Withdraw"),
}


def visible_nomination_or_404(user, pk, *, scope=None) -> Nomination:
    nomination = get_object_or_404(
        Nomination.objects.select_related("nominee", "award_form", "unit", "campaign"), pk=pk
    )
    # A nomination outside the user's part of the tree does not exist for them.
    if not can_view(user, nomination, scope=scope):
        raise Http404
    return nomination


def _render_detail(request, nomination, scope, *, edit_form=None, posted=None, status=200, replication=None):
    actions = [
        {
            "name": action.name,
            "label": ACTION_LABELS[action.name],
            "blocked_by": action.blocked_by,
            "needs_reason": action.name in REASON_REQUIRED,
        }
        for action in available_actions(user=request.user, nomination=nomination, scope=scope)
    ]
    editable = can_edit(request.user, nomination, scope=scope)
    if editable and edit_form is None:
        edit_form = NominationEditForm(
            initial={
                "achievement_summary": nomination.achievement_summary,
                "cultivation_goals": nomination.cultivation_goals,
                "mentor": nomination.mentor,
                "expected_version": nomination.version,
            }
        )
    open_steps, decided_steps = approval_steps(user=request.user, nomination=nomination, scope=scope)
    return render(
        request,
        "processes/nomination_detail.html",
        {
            "nomination": nomination,
            "open_steps": open_steps,
            "decided_steps": decided_steps,
            "objections": nomination.objections.select_related("recorded_by"),
            "may_object": any(step.is_window for step in open_steps)
            and (scope.is_admin or C.BOARD in capacities(request.user, nomination, scope=scope)),
            "consultations": nomination.consultations.select_related("answered_by"),
            "consultation_form": ConsultationForm() if any(step.may_consult for step in open_steps) else None,
            "actions": actions,
            "posted": posted or {},
            "timeline": nomination_timeline(nomination),
            "milestones": nomination.milestones.all(),
            "files": nomination.files.kept().select_related("document_type", "uploaded_by"),
            "document_types": DocumentType.objects.all(),
            "previewable": PREVIEWABLE_TYPES,
            "can_edit": editable,
            "edit_form": edit_form if editable else None,
            "warnings": case_warnings(user=request.user, nomination=nomination, scope=scope),
            "route": case_route(nomination=nomination),
            # Step id → the below-target warnings of the list its level sends up, shown by its decide form.
            "target_warnings": forwarding_target_warnings(
                (step.task, nomination) for step in open_steps if StepAction.APPROVE in dict(step.decisions)
            ),
            "signing_off_day": not is_working_day(timezone.localdate()),
            "replication": replication or replication_panel(request.user, nomination, scope),
        },
        status=status,
    )


@require_GET
def nomination_detail(request, pk):
    scope = user_scope(request.user)
    return _render_detail(request, visible_nomination_or_404(request.user, pk, scope=scope), scope)


def _refused(request, nomination, *, message, posted, status):
    """Show the case again with why, and with what the user typed, so a refused step loses nothing."""
    messages.error(request, message)
    nomination.refresh_from_db()
    return _render_detail(request, nomination, user_scope(request.user), posted=posted, status=status)


@require_POST
def nomination_transition(request, pk):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = TransitionForm(request.POST)
    posted = {name: form.data.get(name, "") for name in ("action", "comment", "decision_number")}
    if not form.is_valid():
        return _refused(request, nomination, message=errors_text(form), posted=posted, status=400)
    data = form.cleaned_data
    try:
        updated = nomination_act(
            nomination=nomination,
            by=request.user,
            action=data["action"],
            comment=data["comment"],
            expected_version=data["expected_version"] if data["expected_version"] is not None else 0,
            decision_number=data["decision_number"],
        )
    except WorkflowError as error:
        return _refused(request, nomination, message=str(error), posted=posted, status=409)
    messages.success(request, _("Done: the nomination is now “%(stage)s”.") % {"stage": updated.get_stage_display()})
    return redirect("processes:nomination-detail", pk=nomination.pk)


def _step_of(nomination, task_id) -> ApprovalTask:
    """The step ``task_id`` of this nomination; any other id (forged, another case's) is not found."""
    task = ApprovalTask.objects.select_related("process").filter(pk=task_id).first()
    if task is None or task.process.subject_id != nomination.pk:
        raise Http404
    return task


@require_POST
def step_decide(request, pk, task_id):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    task = _step_of(nomination, task_id)
    form = StepDecisionForm(request.POST)
    posted = {"task": task.pk, **{name: form.data.get(name, "") for name in ("action", "comment")}}
    if not form.is_valid():
        return _refused(request, nomination, message=errors_text(form), posted=posted, status=400)
    data = form.cleaned_data
    try:
        if data["action"] == StepAction.APPROVE and is_signing_step(task):
            # The award: a decision of its own, numbered by the product.
            version = data["expected_version"]
            decision_sign(
                by=request.user,
                task_ids=[task.pk],
                confirm_non_working_day=data["confirm_non_working_day"],
                expected_versions={task.pk: version} if version is not None else None,
                comment=data["comment"],
            )
            updated = Nomination.objects.select_related("unit").get(pk=nomination.pk)
        else:
            updated = nomination_decide(
                task_id=task.pk,
                by=request.user,
                action=data["action"],
                comment=data["comment"],
                expected_version=data["expected_version"],
            )
    except WorkflowError as error:
        # A stale or double click, a refused step: say why and keep what the user typed.
        return _refused(request, nomination, message=str(error), posted=posted, status=409)
    messages.success(request, decision_message(nomination=updated, task=task, action=data["action"]))
    # Back to the case for whoever still sees it: through the tree, known without reading the scope again;
    # else through a step they hold, asked afresh (the next step may be theirs too).
    if can_view(request.user, updated, scope=scope.without_holding(updated.pk)) or can_view(request.user, updated):
        return redirect("processes:nomination-detail", pk=nomination.pk)
    return redirect("processes:my-work")


@require_POST
def step_reassign_view(request, pk, task_id):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    task = _step_of(nomination, task_id)
    form = ReassignForm(request.POST)
    posted = {"task": task.pk, "reason": form.data.get("reason", "")}
    if not form.is_valid():
        return _refused(request, nomination, message=errors_text(form), posted=posted, status=400)
    to = get_user_model().objects.filter(pk=form.cleaned_data["to"], is_active=True).first()
    try:
        if to is None:
            raise errors.DomainError(_("Choose who takes the step."))
        step_reassign(task_id=task.pk, to=to, by=request.user, reason=form.cleaned_data["reason"])
    except WorkflowError as error:
        return _refused(request, nomination, message=str(error), posted=posted, status=409)
    messages.success(request, _("The step now belongs to %(who)s.") % {"who": to.get_full_name() or to.get_username()})
    return redirect("processes:nomination-detail", pk=nomination.pk)


@require_GET
def inbox(request):
    form = PageForm(request.GET)
    if not form.is_valid():
        messages.error(request, errors_text(form))
    page = inbox_page(user=request.user, after=form.cleaned_data.get("cursor") if form.is_valid() else None)
    return render(
        request,
        "processes/inbox.html",
        {
            "page": page,
            "now": timezone.now(),
            "ballots": open_ballots(request.user),
            "consultations": consultations_for(request.user),
        },
        status=200 if form.is_valid() else 400,
    )


@require_POST
def nomination_edit(request, pk):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = NominationEditForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            nomination_update(
                nomination=nomination, by=request.user, expected_version=data.pop("expected_version"), **data
            )
        except WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("processes:nomination-detail", pk=nomination.pk)
    else:
        messages.error(request, _("The form has errors; nothing was saved."))
    # Keep the user's text on the page; they can copy it over after reloading the current version.
    return _render_detail(request, nomination, scope, edit_form=form, status=409 if form.is_valid() else 400)


# --- starting a case --------------------------------------------------------------------------


def _proposing_units(scope):
    """Units the user may propose for: where they are head, deputy or secretary (all, for admins)."""
    units = OrganisationUnit.objects.order_by("name")
    if scope.is_admin:
        return units
    return units.filter(pk__in=scope.proposing_unit_ids)


def _nominees_in_scope(scope):
    return nominees_proposable_by(None, scope=scope).select_related("unit").order_by("name")


def nominee_new(request):
    scope = user_scope(request.user)
    units = _proposing_units(scope)
    if not units.exists():
        raise Http404
    form = NomineeForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            nominee = nominee_create(by=request.user, unit=data.pop("unit"), **data)
        except WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Nominee “%(name)s” registered.") % {"name": nominee.name})
            return redirect(f"{reverse('processes:nomination-new')}?nominee={nominee.pk}")
    return render(request, "processes/form.html", {"form": form, "title": _("Register a nominee")})


def nomination_new(request):
    scope = user_scope(request.user)
    units = _proposing_units(scope)
    if not units.exists():
        raise Http404
    chosen = NomineeChoiceForm(request.GET)
    initial = {"nominee": chosen.cleaned_data["nominee"] if chosen.is_valid() else None, "procedure": Procedure.REGULAR}
    form = NominationForm(request.POST or None, initial=initial, units=units, nominees=_nominees_in_scope(scope))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            nomination = nomination_create(by=request.user, **data)
        except WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Nomination opened in the discover stage."))
            return redirect("processes:nomination-detail", pk=nomination.pk)
    return render(
        request,
        "processes/form.html",
        {"form": form, "title": _("Open a nomination"), "aside_url": reverse("processes:nominee-new")},
    )
