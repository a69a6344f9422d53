"""Council sessions and their secret ballots, as on the council's screens (``council_views``).

Whoever may see a session (``permissions.may_see_session``: its members, the Board, whoever may
convene that council) reads its agenda and their own ballot's state; the counts come only once the
session is closed. The Board (or a council's own secretariat) opens a session on the cases awaiting a
council they may convene (``services.council_session_open``); a member casts their ballot once
(``services.council_vote``), a second ballot being a 409.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from processes import services
from processes.api.decisions import ConflictSerializer, RefusalSerializer, _form_data, refusal
from processes.council_forms import ITEM_PREFIX, BallotForm, SessionOpenForm
from processes.forms import MAX_ID
from processes.permissions import may_see_session, user_scope
from processes.selectors import case_labels, sessions_visible_to
from workflow.errors import WorkflowError
from workflow.models import Ballot, BallotReceipt, VoteRecusal, VoteSession
from workflow.voting import VoteError, awaiting_council, ballot_refusal, recusals_of


class SessionSerializer(serializers.ModelSerializer):
    council_unit = serializers.IntegerField(source="council_unit_id", read_only=True)
    is_closed = serializers.BooleanField(read_only=True)
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = VoteSession
        fields = [
            "id",
            "title",
            "council_unit",
            "council_label",
            "opened_at",
            "closes_at",
            "closed_at",
            "is_closed",
            "member_count",
            "item_count",
        ]


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="subject_label")
    task = serializers.IntegerField(source="approval_task_id")
    eligible_count = serializers.IntegerField()
    yes = serializers.IntegerField(allow_null=True, help_text=_("Counted once the session is closed; null before."))
    no = serializers.IntegerField(allow_null=True)
    abstain = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True, help_text=_("passed, failed or no_quorum once closed."))


class RecusalSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=VoteRecusal.Reason.choices)


class MyBallotSerializer(serializers.Serializer):
    may_vote = serializers.BooleanField(help_text=_("You hold a ballot you have not cast, and voting is open."))
    voted_at = serializers.DateTimeField(allow_null=True)
    recused = RecusalSerializer(many=True, help_text=_("The cases you do not vote on, and why."))


class SessionDetailSerializer(SessionSerializer):
    items = ItemSerializer(many=True, read_only=True, source="agenda")
    ballots_cast = serializers.IntegerField(read_only=True)
    my_ballot = MyBallotSerializer(read_only=True)

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "items", "ballots_cast", "my_ballot"]


def session_detail(session: VoteSession, user) -> dict:
    """The session as its page shows it: the agenda (counts once closed), how many voted, your ballot."""
    items = list(session.items.order_by("pk"))
    if not session.is_closed:
        for item in items:
            item.yes = item.no = item.abstain = None
            item.outcome = ""
    recused = recusals_of(session, user)
    session.agenda = items
    session.item_count = len(items)
    session.ballots_cast = session.receipts.count()
    session.my_ballot = {
        "may_vote": ballot_refusal(session, user) is None,
        "voted_at": BallotReceipt.objects.filter(session=session, user_id=user.pk)
        .values_list("voted_at", flat=True)
        .first(),
        "recused": [{"item": item_id, "reason": reason} for item_id, reason in sorted(recused.items())],
    }
    return SessionDetailSerializer(session).data


def visible_session_or_404(user, pk) -> VoteSession:
    session = VoteSession.objects.filter(pk=pk).first()
    if session is None or not may_see_session(user, session):
        raise Http404
    return session


class SessionOpenSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    tasks = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=200,
        help_text=_("The council steps (task ids) of the cases for the agenda, all awaiting one council."),
    )
    closes_on = serializers.DateField(help_text=_("Voting closes at 17:00 that day."))


class SessionListView(generics.ListCreateAPIView):
    """GET: the sessions you may see, newest first. POST: open a session on cases awaiting a council
    you may convene (the Board, or the council's own secretariat); each member gets a ballot."""

    def get_queryset(self):
        return sessions_visible_to(self.request.user, scope=user_scope(self.request.user)).annotate(
            item_count=Count("items", distinct=True)
        )

    def get_serializer_class(self):
        return SessionOpenSerializer if self.request.method == "POST" else SessionSerializer

    @extend_schema(
        request=SessionOpenSerializer,
        responses={
            201: SessionDetailSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
            409: ConflictSerializer,
        },
    )
    def post(self, request):
        payload = SessionOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        scope = user_scope(request.user)
        waiting = [
            task for task in awaiting_council() if services.may_open_session(request.user, task.unit_id, scope=scope)
        ]
        labels = case_labels([task.process for task in waiting])
        form = SessionOpenForm(
            _form_data(
                task=[str(pk) for pk in data["tasks"]], title=data["title"], closes_on=data["closes_on"].isoformat()
            ),
            waiting=[(task, labels.get(task.process_id, "")) for task in waiting],
        )
        if not form.is_valid():
            problems = form.errors.as_data()
            if any(error.code == "invalid_choice" for error in problems.get("task", [])):
                raise exceptions.NotFound(_("A chosen case is not awaiting a council you may convene."))
            raise exceptions.ValidationError(
                {"tasks" if name == "task" else name: [str(m) for m in found] for name, found in form.errors.items()}
            )
        try:
            session = services.council_session_open(
                by=request.user,
                title=form.cleaned_data["title"],
                tasks=form.cleaned_data["task"],
                closes_at=form.closes_at,
            )
        except WorkflowError as error:
            raise refusal(error) from error
        return Response(session_detail(session, request.user), status=status.HTTP_201_CREATED)


class SessionDetailView(generics.GenericAPIView):
    """A session you may see: its agenda (the counts once it is closed) and your ballot."""

    serializer_class = SessionDetailSerializer

    @extend_schema(responses={200: SessionDetailSerializer, 404: RefusalSerializer})
    def get(self, request, pk):
        return Response(session_detail(visible_session_or_404(request.user, pk), request.user))


class ChoiceSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    choice = serializers.ChoiceField(choices=Ballot.Choice.choices)


class BallotSerializer(serializers.Serializer):
    choices = ChoiceSerializer(
        many=True, allow_empty=False, max_length=500, help_text=_("A choice on every case you vote on.")
    )


class BallotView(generics.GenericAPIView):
    """Cast your secret ballot: for, against or abstain on every case of the agenda you vote on, once.
    A second ballot, or one after voting closed, is a 409; without a ballot in the session, 403."""

    serializer_class = BallotSerializer

    @extend_schema(
        request=BallotSerializer,
        responses={
            200: SessionDetailSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
            409: ConflictSerializer,
        },
    )
    def post(self, request, pk):
        session = visible_session_or_404(request.user, pk)
        refused = ballot_refusal(session, request.user)
        if refused is not None:
            if isinstance(refused, VoteError):
                raise exceptions.PermissionDenied(str(refused))
            raise refusal(refused)
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        items = list(session.items.order_by("pk"))
        form = BallotForm(
            _form_data(**{f"{ITEM_PREFIX}{row['item']}": row["choice"] for row in payload.validated_data["choices"]}),
            items=items,
            recused=recusals_of(session, request.user),
        )
        if not form.is_valid():
            raise exceptions.ValidationError({"choices": [str(m) for found in form.errors.values() for m in found]})
        try:
            services.council_vote(session_id=session.pk, by=request.user, choices=form.choices())
        except WorkflowError as error:
            raise refusal(error) from error
        session.refresh_from_db()
        return Response(session_detail(session, request.user))
