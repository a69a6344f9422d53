"""Nominees and nominations: the tracker's list (its filters and accent-blind search), a case with its
open step, opening and editing a case, submitting and withdrawing it, its timeline and its route.

Reads are scoped by ``processes.permissions`` (an object outside them is a 404); writes go through the
services the screens call (``processes/views.py``), whose refusals the core maps to 400/403/409.
"""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from processes import errors
from processes.api.errors import domain_refusal
from processes.filters import TrackerFilter
from processes.models import (
    AwardForm,
    Campaign,
    Nomination,
    Nominee,
    OrganisationUnit,
    Procedure,
)
from processes.permissions import (
    may_see_id_numbers,
    nominations_visible_to,
    nominees_proposable_by,
    user_scope,
)
from processes.selectors import attach_open_steps, case_route, nomination_timeline
from processes.services import (
    NOMINEE_FIELDS,
    nomination_create,
    nomination_resubmit,
    nomination_start_cultivation,
    nomination_submit,
    nomination_update,
    nomination_withdraw,
    nominee_create,
)
from processes.text import plain
from workflow.errors import WorkflowError


def scope_of(request):
    """The user's scope, computed once per request (every check of the request reuses it)."""
    if not hasattr(request, "_thidua_scope"):
        request._thidua_scope = user_scope(request.user)
    return request._thidua_scope


class PlainTextField(serializers.CharField):
    """Text a person writes, as the screens' forms take it (``processes.text.plain``): composed, without
    invisible characters; ``one_line`` for a name or a mentor."""

    def __init__(self, *, one_line: bool = False, **kwargs):
        self.one_line = one_line
        kwargs.setdefault("max_length", 255 if one_line else 20000)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return plain(value, one_line=self.one_line)
        except errors.DomainError as error:
            raise serializers.ValidationError(str(error)) from None


# --- nominees ---------------------------------------------------------------------------------------


class NomineeSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField(
        help_text=_("Whole for administrators and the Board's officers; masked (the last four digits) otherwise.")
    )

    class Meta:
        model = Nominee
        fields = ["id", "unit", *NOMINEE_FIELDS]
        # An answer, never read: its choice fields stay "writable" so that their blank value ("" for a
        # collective's gender, an individual's collective type) is in the schema's enum (DRF drops
        # ``allow_blank`` from read-only fields).
        read_only_fields = ["id", "unit"]

    def get_id_number(self, nominee) -> str:
        return nominee.id_number if self.context.get("reveal_ids") else nominee.masked_id_number


class NomineeCreateSerializer(serializers.ModelSerializer):
    """A new nominee of ``unit``; the service decides whether the user may register one there."""

    unit = serializers.PrimaryKeyRelatedField(queryset=OrganisationUnit.objects.all())
    name = PlainTextField(one_line=True, allow_blank=False)

    class Meta:
        model = Nominee
        fields = ["unit", *NOMINEE_FIELDS]
        # The model's constraints are checked by the service (``full_clean``), as for the screen's form.
        validators = []


@extend_schema_view(
    list=extend_schema(summary="Nominees the user may see or propose"),
    retrieve=extend_schema(summary="One nominee", responses={200: NomineeSerializer, 404: OpenApiResponse()}),
    create=extend_schema(
        summary="Register a nominee of a unit (its head, deputy or secretary)",
        request=NomineeCreateSerializer,
        responses={201: NomineeSerializer, 400: OpenApiResponse(), 403: OpenApiResponse()},
    ),
)
class NomineeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The nominees of the nominations the user may see, and those of the units where they may propose."""

    lookup_value_converter = "id"

    serializer_class = NomineeSerializer
    queryset = Nominee.objects.none()  # the schema's model; requests read ``get_queryset``
    ordering = "-pk"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        scope = scope_of(self.request)
        visible = nominations_visible_to(self.request.user, scope=scope).values("nominee_id")
        proposable = nominees_proposable_by(self.request.user, scope=scope).values("pk")
        return Nominee.objects.filter(Q(pk__in=visible) | Q(pk__in=proposable))

    def get_serializer_context(self):
        reveal = may_see_id_numbers(self.request.user, scope=scope_of(self.request))
        return {**super().get_serializer_context(), "reveal_ids": reveal}

    def create(self, request, *args, **kwargs):
        incoming = NomineeCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            nominee = nominee_create(by=request.user, unit=data.pop("unit"), **data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(self.get_serializer(nominee).data, status=status.HTTP_201_CREATED)


# --- nominations ------------------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class OpenStepSerializer(serializers.Serializer):
    """An open approval step of a case: what it is, who holds it, until when."""

    id = serializers.IntegerField(source="pk")
    code = serializers.CharField(source="step.code")
    name = serializers.CharField(source="step.name")
    unit_label = serializers.CharField()
    due_at = serializers.DateTimeField()
    holders = serializers.SerializerMethodField()

    def get_holders(self, task) -> list[dict]:
        return PersonSerializer([candidate.user for candidate in task.open_holders], many=True).data


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(required=False)
    name = serializers.CharField()


class NominationSerializer(serializers.ModelSerializer):
    stage_label = serializers.CharField(source="get_stage_display")
    procedure_label = serializers.CharField(source="get_procedure_display")
    nominee = inline_serializer(
        "NominationNominee",
        {"id": serializers.IntegerField(), "name": serializers.CharField(), "kind": serializers.CharField()},
    )
    unit = NamedSerializer()
    award_form = NamedSerializer()
    campaign = NamedSerializer()
    decision_number = serializers.SerializerMethodField()
    open_steps = OpenStepSerializer(many=True, help_text=_("The approval steps open now, soonest due first."))

    class Meta:
        model = Nomination
        fields = [
            "id",
            "stage",
            "stage_label",
            "version",
            "procedure",
            "procedure_label",
            "nominee",
            "unit",
            "award_form",
            "campaign",
            "decision_number",
            "open_steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_decision_number(self, nomination) -> str | None:
        decision = getattr(nomination, "decision", None)
        return decision.number if decision is not None else None


class NominationDetailSerializer(NominationSerializer):
    class Meta(NominationSerializer.Meta):
        fields = [*NominationSerializer.Meta.fields, "achievement_summary", "cultivation_goals", "mentor"]
        read_only_fields = fields


def current_state(nomination: Nomination) -> dict:
    """The case as it is now in the database: the ``current`` of a 409."""
    fresh = Nomination.objects.select_related("nominee", "unit", "award_form", "campaign", "decision").get(
        pk=nomination.pk
    )
    attach_open_steps([fresh])
    return NominationDetailSerializer(fresh).data


class NominationCreateSerializer(serializers.Serializer):
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all())
    award_form = serializers.PrimaryKeyRelatedField(queryset=AwardForm.objects.all())
    procedure = serializers.ChoiceField(choices=Procedure.choices, default=Procedure.REGULAR)
    nominee = serializers.PrimaryKeyRelatedField(
        queryset=Nominee.objects.none(), help_text=_("A nominee of a unit where you are head, deputy or secretary.")
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=OrganisationUnit.objects.all(), required=False, help_text=_("The proposing unit; the nominee's.")
    )
    achievement_summary = PlainTextField(required=False)

    def __init__(self, *args, nominees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if nominees is not None:
            self.fields["nominee"].queryset = nominees


class NominationEditSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text=_("The version of the case you read."))
    achievement_summary = PlainTextField(required=False)
    cultivation_goals = PlainTextField(required=False)
    mentor = PlainTextField(one_line=True, required=False)


class SubmitSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text=_("The version of the case you read."))
    comment = PlainTextField(required=False)


class WithdrawSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text=_("The version of the case you read."))
    reason = PlainTextField(allow_blank=False)


class TimelineEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    action = serializers.CharField(help_text=_("The dotted action code, e.g. processes.nomination.submitted."))
    label = serializers.CharField()
    detail = serializers.CharField()
    step_name = serializers.CharField()
    actor = PersonSerializer(allow_null=True)
    from_state = serializers.CharField()
    from_label = serializers.CharField()
    to_state = serializers.CharField()
    to_label = serializers.CharField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class TimelineSerializer(serializers.Serializer):
    nomination = serializers.IntegerField()
    entries = TimelineEntrySerializer(many=True, help_text=_("The whole history, oldest first."))


class RouteStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=["decided", "current", "ahead", "skipped"])
    who = serializers.CharField(help_text=_("Who decided it (a decided step)."))
    when = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    holder = serializers.CharField(help_text=_("Who holds it (the current step)."))
    due = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class RouteSerializer(serializers.Serializer):
    nomination = serializers.IntegerField()
    submitted = serializers.BooleanField(help_text=_("False before the case was first submitted: no route yet."))
    template = serializers.CharField(allow_null=True)
    template_version = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(allow_null=True, help_text=_("The current step among those that apply."))
    total = serializers.IntegerField(help_text=_("How many steps apply to the case."))
    finished = serializers.BooleanField()
    steps = RouteStepSerializer(many=True)


class ApiTrackerFilter(TrackerFilter):
    """The tracker's FilterSet as it is, with the types of two filters whose values come from the database
    (a step's code, a holder's id) told to the schema."""

    @extend_schema_field(OpenApiTypes.STR)
    def filter_step(self, rows, name, value):
        return super().filter_step(rows, name, value)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_holder(self, rows, name, value):
        return super().filter_holder(rows, name, value)


class TrackerFilterBackend(DjangoFilterBackend):
    """The case tracker's FilterSet over the nominations the user may see. Its own order and page cursor
    are not the API's (the API pages by its cursor), so they are left out of what it reads."""

    NOT_FILTERS = ("cursor", "page_size", "sort")

    def get_filterset_class(self, view, queryset=None):
        return ApiTrackerFilter

    def get_filterset_kwargs(self, request, queryset, view):
        data = request.query_params.copy()
        for name in self.NOT_FILTERS:
            data.pop(name, None)
        return {"data": data, "user": request.user, "scope": scope_of(request), "request": request}

    def filter_queryset(self, request, queryset, view):
        rows = super().filter_queryset(request, queryset, view)
        # The FilterSet starts from ``nominations_visible_to``; keep the view's joins.
        return rows.select_related(*NominationViewSet.JOINS)


WRITE_ERRORS = {
    400: OpenApiResponse(description="Invalid input, with the fields' errors, or a rule refused."),
    403: OpenApiResponse(description="You may see the case but not do this."),
    404: OpenApiResponse(description="No such case, or not one you may see."),
    409: OpenApiResponse(
        description="The case changed since the version sent, or the step is not open now; "
        "``current`` holds the case as it is."
    ),
}


@extend_schema_view(
    list=extend_schema(
        summary="The case tracker: nominations the user may see",
        description="Filtered as the tracker filters (``q`` finds a word prefix without case or diacritics, "
        "or an ID number); newest case first, paged by ``cursor``.",
        responses={200: NominationSerializer, 400: WRITE_ERRORS[400]},
    ),
    retrieve=extend_schema(summary="One case", responses={200: NominationDetailSerializer, 404: WRITE_ERRORS[404]}),
)
class NominationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_converter = "id"
    serializer_class = NominationSerializer
    filter_backends = [TrackerFilterBackend]
    ordering = "-pk"
    http_method_names = ["get", "post", "patch", "head", "options"]
    JOINS = ("nominee", "unit", "award_form", "campaign", "decision")
    queryset = Nomination.objects.none()  # the schema's model; requests read ``get_queryset``

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return nominations_visible_to(self.request.user, scope=scope_of(self.request)).select_related(*self.JOINS)

    def filter_queryset(self, queryset):
        # The tracker's filters apply to the list only; a case is found by id whatever they say.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return NominationSerializer if self.action == "list" else NominationDetailSerializer

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        attach_open_steps(page)
        return page

    def get_object(self):
        nomination = super().get_object()
        attach_open_steps([nomination])
        return nomination

    def _answer(self, nomination: Nomination, *, code=status.HTTP_200_OK) -> Response:
        return Response(current_state(nomination), status=code)

    def _refused(self, error: WorkflowError, nomination: Nomination):
        return domain_refusal(error, current=current_state(nomination))

    @extend_schema(
        summary="Open a nomination (the proposing unit's head, deputy or secretary)",
        request=NominationCreateSerializer,
        responses={201: NominationDetailSerializer, **{code: WRITE_ERRORS[code] for code in (400, 403)}},
    )
    def create(self, request):
        scope = scope_of(request)
        if not scope.may_propose:
            raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may propose."))
        incoming = NominationCreateSerializer(
            data=request.data, nominees=nominees_proposable_by(request.user, scope=scope)
        )
        incoming.is_valid(raise_exception=True)
        nomination = nomination_create(by=request.user, **incoming.validated_data)
        return self._answer(nomination, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit the case's texts while it is editable",
        request=NominationEditSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        nomination = self.get_object()
        incoming = NominationEditSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            updated = nomination_update(
                nomination=nomination, by=request.user, expected_version=data.pop("version"), **data
            )
        except WorkflowError as error:
            raise self._refused(error, nomination) from None
        return self._answer(updated)

    def _move(self, request, service, serializer_class=None, **fields):
        """A stage move through ``service`` (one of processes.services' nomination_* functions) with the
        version the client read; ``fields``: the service's argument → the request's field."""
        nomination = self.get_object()
        incoming = (serializer_class or SubmitSerializer)(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            updated = service(
                nomination=nomination,
                by=request.user,
                expected_version=data["version"],
                **{argument: data.get(field, "") for argument, field in fields.items()},
            )
        except WorkflowError as error:
            raise self._refused(error, nomination) from None
        return self._answer(updated)

    @extend_schema(
        summary="Start cultivation (discover → cultivate), as the case page's button does",
        request=SubmitSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="start-cultivation")
    def start_cultivation(self, request, pk=None):
        return self._move(request, nomination_start_cultivation)

    @extend_schema(
        summary="Send a returned case back up (the chain resumes at the step that returned it)",
        request=SubmitSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._move(request, nomination_resubmit, comment="comment")

    @extend_schema(
        summary="Submit the case for approval (its approval chain starts)",
        request=SubmitSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._move(request, nomination_submit, comment="comment")

    @extend_schema(
        summary="Withdraw the case (the proposing unit's head), with a reason",
        request=WithdrawSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._move(request, nomination_withdraw, WithdrawSerializer, reason="reason")

    @extend_schema(
        summary="The case's history, as its page shows it",
        responses={200: TimelineSerializer, 404: WRITE_ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        nomination = self.get_object()
        return Response(
            TimelineSerializer({"nomination": nomination.pk, "entries": nomination_timeline(nomination)}).data
        )

    @extend_schema(
        summary="The case's route: its steps with their state, and the current step's position",
        responses={200: RouteSerializer, 404: WRITE_ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def route(self, request, pk=None):
        nomination = self.get_object()
        route = case_route(nomination=nomination)
        if route is None:
            body = {
                "nomination": nomination.pk,
                "submitted": False,
                "template": None,
                "template_version": None,
                "position": None,
                "total": 0,
                "finished": False,
                "steps": [],
            }
        else:
            body = {
                "nomination": nomination.pk,
                "submitted": True,
                "template": route.version.template.name,
                "template_version": route.version.number,
                "position": route.position,
                "total": route.total,
                "finished": route.finished,
                "steps": [
                    {"position": step.position, "code": step.code, "name": step.name, **asdict(progress)}
                    for step, progress in route.steps
                ],
            }
        return Response(RouteSerializer(body).data)
