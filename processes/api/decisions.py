"""Decisions on approval steps (one, or several at once as on My work) and the numbered award decisions
with their papers.

The same code as the screens: a step is decided by ``services.nomination_decide`` (the case page's
``step_decide``), the signing step and several cases at once are signed by ``services.decision_sign``
(the signing pages), the bulk approval and the signing accept the steps the screens' forms accept
(``BulkApproveForm``, ``SignDecisionForm``: a forged or foreign id refuses the whole request, naming
nothing). A refusal because the case moved (a stale version, a step decided meanwhile, by the same
user or someone else) is a 409 carrying the case's state now (``current``).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, renderers, serializers, status
from rest_framework.response import Response

from processes import documents
from processes import errors as domain_errors
from processes.api.errors import CONFLICTS, Conflict, domain_refusal
from processes.decision_forms import SignDecisionForm
from processes.forms import COMMENT_MAX_LENGTH, MAX_ID
from processes.models import AwardDecision, Nomination
from processes.permissions import can_view, decisions_visible_to, user_scope
from processes.selectors.signing import decision_awardees, is_signing_step
from processes.services import NonWorkingDay, decision_sign, nomination_decide
from processes.services.steps import running_process
from processes.text import validate_text
from processes.work_forms import MAX_STEPS, BulkApproveForm
from workflow.approvals import open_tasks
from workflow.errors import WorkflowError
from workflow.models import ApprovalTask, StepAction

#: The decisions a person takes on a step through the API (a council's vote is cast as a ballot).
DECIDE_ACTIONS = (StepAction.APPROVE, StepAction.RETURN, StepAction.REJECT)


# --- the shapes of refusals and of a case's state (for the schema) -------------------------------


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False, help_text=_("Field → messages (400 only)."))


class HolderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StepStateSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    holders = HolderSerializer(many=True)


class CaseStateSerializer(serializers.Serializer):
    nomination = serializers.IntegerField()
    stage = serializers.CharField()
    version = serializers.IntegerField()
    step = StepStateSerializer(allow_null=True, help_text=_("The open step and who holds it; null when none."))


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    current = CaseStateSerializer(required=False)


def _person(user) -> dict:
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def case_state(nomination_id: int) -> dict:
    """The case now: its stage, version, open step and who holds it (the body of a 409's ``current``)."""
    nomination = Nomination.objects.get(pk=nomination_id)
    process = running_process(nomination)
    task = open_tasks(process=process).first() if process is not None else None
    return {
        "nomination": nomination.pk,
        "stage": nomination.stage,
        "version": nomination.version,
        "step": None
        if task is None
        else {
            "task": task.pk,
            "code": task.step.code,
            "name": task.step.name,
            "holders": [_person(candidate.user) for candidate in task.candidates.all()],
        },
    }


class NonWorkingDayRefused(exceptions.APIException):
    """The signing date is a day off: send again with ``confirm_non_working_day`` true."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "confirm_non_working_day"


def refusal(error: WorkflowError, *, current=None) -> exceptions.APIException:
    """The answer to a refusal of the services. ``decision_sign`` names the case in a ``DomainError``
    raised from the step's own refusal: that cause says whether it is a conflict or a permission."""
    if isinstance(error, NonWorkingDay):
        return NonWorkingDayRefused(str(error))
    cause = error.__cause__ if isinstance(error.__cause__, WorkflowError) else error
    if isinstance(cause, CONFLICTS):
        return Conflict(str(error), current=current)
    if isinstance(cause, domain_errors.PermissionDenied):
        return exceptions.PermissionDenied(str(error))
    return domain_refusal(error, current=current)


def refusal_code(error: WorkflowError) -> str:
    codes = refusal(error).get_codes()
    return codes if isinstance(codes, str) else "invalid"


# --- one step ------------------------------------------------------------------------------------


def visible_step_or_404(user, task_id: int) -> tuple[ApprovalTask, Nomination]:
    """The step ``task_id`` of a nomination the user may see, or holds or held (a step decided since);
    any other id, forged or of a case outside the user's tree, is not found."""
    task = (
        ApprovalTask.objects.select_related("process__version", "step")
        .filter(pk=task_id, process__subject_type=ContentType.objects.get_for_model(Nomination))
        .first()
    )
    if task is None:
        raise Http404
    nomination = (
        Nomination.objects.select_related("nominee", "award_form", "unit").filter(pk=task.process.subject_id).first()
    )
    if nomination is None or not (can_view(user, nomination) or task.candidates.filter(user_id=user.pk).exists()):
        raise Http404
    return task, nomination


class StepDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(action, StepAction(action).label) for action in DECIDE_ACTIONS])
    comment = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_text],
        help_text=_("Required to return or reject, and for an administrator deciding a step someone else holds."),
    )
    version = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, help_text=_("The nomination's version you read: a changed case is a 409.")
    )
    confirm_non_working_day = serializers.BooleanField(
        default=False, help_text=_("At the signing step, on a weekend day or a public holiday: sign anyway.")
    )


class StepDecideView(generics.GenericAPIView):
    """Approve, return or reject an open step you hold. Approving the last step signs the award: a
    numbered decision of its own (as on the case page)."""

    serializer_class = StepDecisionSerializer

    @extend_schema(
        operation_id="steps_decide",
        request=StepDecisionSerializer,
        responses={
            200: CaseStateSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
            409: ConflictSerializer,
        },
    )
    def post(self, request, task_id):
        task, nomination = visible_step_or_404(request.user, task_id)
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            if data["action"] == StepAction.APPROVE and is_signing_step(task):
                decision_sign(
                    by=request.user,
                    task_ids=[task.pk],
                    confirm_non_working_day=data["confirm_non_working_day"],
                    expected_versions={task.pk: data["version"]},
                    comment=data["comment"],
                )
            else:
                nomination_decide(
                    task_id=task.pk,
                    by=request.user,
                    action=data["action"],
                    comment=data["comment"],
                    expected_version=data["version"],
                )
        except WorkflowError as error:
            raise refusal(error, current=case_state(nomination.pk)) from error
        return Response(CaseStateSerializer(case_state(nomination.pk)).data)


# --- several steps at once (My work's bulk approval) ---------------------------------------------


class ChosenStepSerializer(serializers.Serializer):
    task = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


class BulkDecisionSerializer(serializers.Serializer):
    items = ChosenStepSerializer(many=True, allow_empty=False, max_length=MAX_STEPS)
    comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[validate_text]
    )


class BulkItemSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    nomination = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=[("decided", _("Decided")), ("refused", _("Refused"))])
    detail = serializers.CharField(allow_blank=True, help_text=_("Why it was refused."))
    code = serializers.CharField(allow_blank=True, help_text=_("conflict, permission_denied or invalid."))
    current = CaseStateSerializer()


class BulkResultSerializer(serializers.Serializer):
    items = BulkItemSerializer(many=True)


def _form_data(**values) -> MultiValueDict:
    """Values as a posted form carries them (lists), for the screens' forms."""
    return MultiValueDict({name: value if isinstance(value, list) else [value] for name, value in values.items()})


def _chosen_or_404(form) -> None:
    """A screens' form of chosen steps: a step not among the user's refuses the whole request as not
    found, naming nothing; any other error is a 400 with the fields' messages."""
    if form.is_valid():
        return
    problems = form.errors.as_data()
    if any(error.code == "invalid_choice" for error in problems.get("tasks", [])):
        raise exceptions.NotFound(_("A chosen step is not one of yours; nothing was decided."))
    raise exceptions.ValidationError({name: [str(message) for message in found] for name, found in form.errors.items()})


class BulkDecideView(generics.GenericAPIView):
    """Approve several steps, each with the case version you read (My work's bulk approval): each case
    is decided in its own transaction, and each refusal is reported with why and the case now. A step
    that is not yours (forged, of a case you may not see) refuses the whole request (404)."""

    serializer_class = BulkDecisionSerializer

    @extend_schema(
        operation_id="steps_decide_bulk",
        request=BulkDecisionSerializer,
        responses={200: BulkResultSerializer, 400: RefusalSerializer, 404: RefusalSerializer},
    )
    def post(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        form = BulkApproveForm(
            _form_data(
                tasks=[f"{item['task']}:{item['version']}" for item in data["items"]],
                comment=data["comment"],
            ),
            user=request.user,
        )
        _chosen_or_404(form)
        results = []
        for chosen in form.chosen:
            row = {"task": chosen.task.pk, "nomination": chosen.nomination.pk, "detail": "", "code": ""}
            try:
                nomination_decide(
                    task_id=chosen.task.pk,
                    by=request.user,
                    action=StepAction.APPROVE,
                    comment=form.cleaned_data["comment"],
                    expected_version=chosen.version,
                )
            except WorkflowError as error:
                row.update(outcome="refused", detail=str(error), code=refusal_code(error))
            else:
                row["outcome"] = "decided"
            row["current"] = case_state(chosen.nomination.pk)
            results.append(row)
        return Response(BulkResultSerializer({"items": results}).data)


# --- numbered award decisions --------------------------------------------------------------------


class IssuerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DecisionSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    issuer = IssuerSerializer(read_only=True)
    signer = serializers.SerializerMethodField()
    awardee_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = AwardDecision
        fields = [
            "id",
            "number",
            "year",
            "sequence",
            "symbol",
            "issuer",
            "signed_on",
            "signer",
            "on_behalf",
            "created_at",
            "awardee_count",
        ]

    def get_signer(self, document) -> HolderSerializer:
        return _person(document.signer)


class AwardeeSerializer(serializers.Serializer):
    nomination = serializers.SerializerMethodField(help_text=_("The case's id when you may open it; null otherwise."))
    nominee = serializers.CharField(source="nomination.nominee.name")
    unit = serializers.CharField(source="nomination.unit.name")
    award_form = serializers.CharField(source="nomination.award_form.name")
    award_form_code = serializers.CharField(source="nomination.award_form.code")

    def get_nomination(self, award) -> int | None:
        return award.nomination_id if award.visible else None


class DecisionDetailSerializer(DecisionSerializer):
    awardees = AwardeeSerializer(many=True, read_only=True, source="awardee_rows")

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "awardees"]


class DocxRenderer(renderers.BaseRenderer):
    """Lets a client ask for the .docx by its type; a refusal is still sent as JSON."""

    media_type = documents.DOCX
    format = "docx"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


def visible_decisions(user):
    """The numbered decisions ``user`` may open (those awarding a case they may see), with their counts."""
    return (
        decisions_visible_to(user, scope=user_scope(user))
        .select_related("issuer", "signer")
        .annotate(awardee_count=Count("awards"))
    )


class DecisionListView(generics.ListAPIView):
    """The numbered decisions you may open: those awarding a case you may see (as on the screens)."""

    serializer_class = DecisionSerializer

    def get_queryset(self):
        return visible_decisions(self.request.user)


class DecisionDetailView(generics.GenericAPIView):
    """A decision you may open, with its awardees (a case's id only where you may open the case)."""

    serializer_class = DecisionDetailSerializer

    @extend_schema(responses={200: DecisionDetailSerializer, 404: RefusalSerializer})
    def get(self, request, pk):
        document = _visible_decision_or_404(request.user, pk)
        document.awardee_rows = decision_awardees(document, request.user, scope=user_scope(request.user))
        return Response(self.get_serializer(document).data)


def _visible_decision_or_404(user, pk) -> AwardDecision:
    document = visible_decisions(user).filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


def _docx(data: bytes, filename: str) -> HttpResponse:
    """``filename`` is built from ASCII words and numbers only (as the screens' downloads)."""
    response = HttpResponse(data, content_type=documents.DOCX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


DOCX_RESPONSES = {
    (200, documents.DOCX): OpenApiResponse(OpenApiTypes.BINARY, description=_("The Word document.")),
    404: RefusalSerializer,
}


class DecisionDocxView(generics.GenericAPIView):
    """The decision as a Word document (the same paper as the screens' download)."""

    renderer_classes = [renderers.JSONRenderer, DocxRenderer]
    serializer_class = None
    pagination_class = None

    @extend_schema(responses=DOCX_RESPONSES)
    def get(self, request, pk):
        document = _visible_decision_or_404(request.user, pk)
        data = documents.decision_docx(documents.decision_paper(document))
        return _docx(data, f"decision-{document.year}-{document.sequence}.docx")


class CertificatesDocxView(DecisionDocxView):
    """The decision's certificates (one per awardee) as a Word document."""

    @extend_schema(responses=DOCX_RESPONSES)
    def get(self, request, pk):
        document = _visible_decision_or_404(request.user, pk)
        data = documents.certificates_docx(documents.decision_paper(document))
        return _docx(data, f"certificates-{document.year}-{document.sequence}.docx")


class SignSerializer(serializers.Serializer):
    tasks = ChosenStepSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_STEPS,
        help_text=_("The signing steps you hold, with each case's version."),
    )
    signed_on = serializers.DateField(required=False, help_text=_("Today when left out; never in the future."))
    confirm_non_working_day = serializers.BooleanField(
        default=False, help_text=_("Sign on a weekend day or a public holiday (else 400 confirm_non_working_day).")
    )
    comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[validate_text]
    )


class DecisionSignView(generics.GenericAPIView):
    """Sign one numbered decision awarding the cases whose signing steps you hold: all of them or none
    (a refusal names the case). A date that is not a working day answers 400 with the code
    ``confirm_non_working_day`` until it is confirmed."""

    serializer_class = SignSerializer

    @extend_schema(
        request=SignSerializer,
        responses={
            201: DecisionDetailSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
            409: ConflictSerializer,
        },
    )
    def post(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        values = {
            "tasks": [f"{item['task']}:{item['version']}" for item in data["tasks"]],
            "comment": data["comment"],
            "confirm_non_working_day": "on" if data["confirm_non_working_day"] else "",
            "signed_on": data.get("signed_on", timezone.localdate()).isoformat(),
        }
        form = SignDecisionForm(_form_data(**values), user=request.user)
        _chosen_or_404(form)
        cleaned = form.cleaned_data
        try:
            document = decision_sign(
                by=request.user,
                task_ids=[chosen.task.pk for chosen in form.chosen],
                signed_on=cleaned["signed_on"],
                confirm_non_working_day=cleaned["confirm_non_working_day"],
                expected_versions={chosen.task.pk: chosen.version for chosen in form.chosen},
                comment=cleaned["comment"],
            )
        except WorkflowError as error:
            raise refusal(error) from error
        document = _signed(request.user, document.pk)
        return Response(DecisionDetailSerializer(document).data, status=status.HTTP_201_CREATED)


def _signed(user, pk) -> AwardDecision:
    document = visible_decisions(user).get(pk=pk)
    document.awardee_rows = decision_awardees(document, user, scope=user_scope(user))
    return document
