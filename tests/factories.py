"""Factories and a small organisation used across the suite."""

from dataclasses import dataclass
from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from processes.models import (
    AwardForm,
    Campaign,
    CampaignKind,
    DecisionLevel,
    DocumentType,
    DossierFile,
    Membership,
    Nomination,
    Nominee,
    NomineeKind,
    OrganisationUnit,
    Procedure,
    Role,
    UnitKind,
    UnitLink,
)
from processes.reference_data import load_chains
from workflow.models import StepKind

User = get_user_model()

# Smallest well-formed files of each accepted type, built in memory.
# The PDF has its cross-reference table, as every real one does: uploads are inspected with pypdf.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n96\n%%EOF\n"
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    password = factory.django.Password("pw")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n}")
    name = factory.LazyAttribute(lambda unit: f"Đơn vị {unit.code}")
    kind = UnitKind.UNIT


class AwardFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwardForm
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"F{n}")
    name = factory.LazyAttribute(lambda form: f"Hình thức {form.code}")
    decision_level = DecisionLevel.CITY_CHAIRMAN
    for_individual = True
    for_collective = True
    for_household = True


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.LazyAttribute(lambda campaign: f"Phong trào {campaign.code}")
    kind = CampaignKind.REGULAR
    period_start = date(2026, 1, 1)
    period_end = date(2026, 12, 31)
    submission_deadline = date(2026, 11, 30)


class NomineeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nominee

    kind = NomineeKind.INDIVIDUAL
    name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    gender = "male"
    birth_date = date(1985, 5, 17)
    ethnicity = "Kinh"
    id_number = factory.Sequence(lambda n: f"{31000000000 + n:012d}")
    category = "worker"


def link(unit, parent, valid_from=date(2000, 1, 1), valid_to=None):
    return UnitLink.objects.create(unit=unit, parent=parent, valid_from=valid_from, valid_to=valid_to)


def member(user, unit, role, valid_from=date(2000, 1, 1), valid_to=None):
    return Membership.objects.create(user=user, unit=unit, role=role, valid_from=valid_from, valid_to=valid_to)


@dataclass
class Org:
    city: OrganisationUnit
    department: OrganisationUnit
    hospital: OrganisationUnit
    district: OrganisationUnit
    ward: OrganisationUnit
    home_affairs: OrganisationUnit
    board: OrganisationUnit
    council: OrganisationUnit
    users: dict
    city_form: AwardForm
    unit_form: AwardForm
    campaign: Campaign
    report_type: DocumentType

    def __getattr__(self, name):
        try:
            return self.users[name]
        except KeyError:
            raise AttributeError(name) from None


def build_org(day=date(2020, 1, 1)) -> Org:
    city = UnitFactory(code="HP", name="UBND thành phố", kind=UnitKind.CITY)
    department = UnitFactory(code="HP.SYT", name="Sở Y tế", kind=UnitKind.DEPARTMENT)
    hospital = UnitFactory(code="HP.SYT.BV", name="Bệnh viện Việt Tiệp", kind=UnitKind.UNIT)
    district = UnitFactory(code="HP.LC", name="Quận Lê Chân", kind=UnitKind.DISTRICT)
    ward = UnitFactory(code="HP.LC.PTT", name="Phường Trại Cau", kind=UnitKind.UNIT)
    home_affairs = UnitFactory(code="HP.SNV", name="Sở Nội vụ", kind=UnitKind.DEPARTMENT)
    board = UnitFactory(code="HP.SNV.BTDKT", name="Ban Thi đua - Khen thưởng", kind=UnitKind.BOARD)
    council = UnitFactory(code="HP.HDTDKT", name="Hội đồng TĐKT", kind=UnitKind.COUNCIL)
    for child, parent in [
        (department, city),
        (hospital, department),
        (district, city),
        (ward, district),
        (home_affairs, city),
        (board, home_affairs),
        (council, city),
    ]:
        link(child, parent, valid_from=day)
    placements = {
        "chairman": (city, Role.HEAD),
        "vice_chairman": (city, Role.DEPUTY),
        "director": (department, Role.HEAD),
        "department_secretary": (department, Role.SECRETARY),
        "hospital_head": (hospital, Role.HEAD),
        "hospital_deputy": (hospital, Role.DEPUTY),
        "hospital_secretary": (hospital, Role.SECRETARY),
        "hospital_member": (hospital, Role.MEMBER),
        "district_chairman": (district, Role.HEAD),
        "ward_head": (ward, Role.HEAD),
        "ward_secretary": (ward, Role.SECRETARY),
        "board_officer": (board, Role.MEMBER),
        "council_member": (council, Role.MEMBER),
    }
    users = {}
    for name, (unit, role) in placements.items():
        users[name] = UserFactory(username=name)
        member(users[name], unit, role, valid_from=day)
    users["outsider"] = UserFactory(username="outsider")
    users["admin"] = UserFactory(username="admin", is_superuser=True, is_staff=True)
    city_form = AwardFormFactory(code="BK_CT_UBND_TP", decision_level=DecisionLevel.CITY_CHAIRMAN)
    unit_form = AwardFormFactory(code="GK", decision_level=DecisionLevel.UNIT_LEVEL_HEAD)
    # The three chains of chains.csv, published, and the forms' assignments to them.
    load_chains(
        {form.code: form for form in (city_form, unit_form)},
        chains={city_form.code: "city_regular", unit_form.code: "unit_level"},
    )
    report_type, _ = DocumentType.objects.get_or_create(
        code=DocumentType.ACHIEVEMENT_REPORT, defaults={"name": "Báo cáo thành tích"}
    )
    return Org(
        city=city,
        department=department,
        hospital=hospital,
        district=district,
        ward=ward,
        home_affairs=home_affairs,
        board=board,
        council=council,
        users=users,
        city_form=city_form,
        unit_form=unit_form,
        campaign=CampaignFactory(code="HP-2026", launching_unit=city),
        report_type=report_type,
    )


def make_nomination(org: Org, *, unit=None, award_form=None, nominee=None, procedure=Procedure.REGULAR, **fields):
    """A nomination in discover, created directly (services are what the tests exercise)."""
    unit = unit or org.hospital
    nominee = nominee or NomineeFactory(unit=unit)
    return Nomination.objects.create(
        campaign=org.campaign,
        award_form=award_form or org.city_form,
        nominee=nominee,
        unit=unit,
        procedure=procedure,
        created_by=org.hospital_secretary,
        **fields,
    )


def attach_file(nomination, document_type, *, user, content=PDF_BYTES, name="bao-cao.pdf"):
    """Attach a dossier file directly, bypassing upload validation (tested on its own)."""
    return DossierFile.objects.create(
        nomination=nomination,
        document_type=document_type,
        file=SimpleUploadedFile(name, content),
        original_name=name,
        content_type="application/pdf",
        extension="pdf",
        size=len(content),
        sha256="0" * 64,
        uploaded_by=user,
    )


# --- approval chains -----------------------------------------------------------------------------


def submitted(org: Org, **kwargs):
    """A nomination with its report, submitted by the hospital's secretary: its chain is running."""
    from processes import services

    nomination = make_nomination(org, **kwargs)
    attach_file(nomination, org.report_type, user=org.hospital_secretary)
    if nomination.procedure != Procedure.AD_HOC:
        nomination = services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    return services.nomination_submit(nomination=nomination, by=org.hospital_secretary)


def open_step(nomination):
    """The nomination's open approval task (None when no step is open)."""
    from workflow.approvals import current_process, open_tasks

    process = current_process(nomination)
    return open_tasks(process=process).first() if process is not None else None


def holders(approval_task) -> list:
    return [candidate.user for candidate in approval_task.candidates.all()]


def approve_until(nomination, code: str | None = None):
    """Approve open steps, each by its first holder, until the open step is ``code`` (or the last)."""
    from processes import services
    from workflow.approvals import next_position

    while True:
        task = open_step(nomination)
        assert task is not None, "no open step"
        if task.step.code == code or (code is None and next_position(task.process, task.step.position) is None):
            return Nomination.objects.get(pk=nomination.pk)
        if task.step.kind == StepKind.VOTE:
            hold_session(task, choice="yes")
        elif task.step.kind == StepKind.POSTING and not task.candidates.exists():
            run_out(task)
        else:
            services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
        nomination = Nomination.objects.get(pk=nomination.pk)


def hold_session(task, *, choice="yes", voters=None, by=None, closes_in=timedelta(days=7)):
    """A council session for one case's vote step; ``voters`` (default: every member holding a
    ballot) vote ``choice``."""
    from processes import services
    from workflow.voting import ballot_holders

    board = User.objects.filter(username="board_officer").first()
    session = services.council_session_open(
        by=by or board or User.objects.get(username="admin"),
        title="Phiên họp",
        tasks=[task],
        closes_at=timezone.now() + closes_in,
    )
    item = session.items.get()
    members = User.objects.filter(pk__in=ballot_holders(session)).order_by("pk")
    for member in members if voters is None else voters:
        services.council_vote(session_id=session.pk, by=member, choices={item.pk: choice})
    return session


def run_out(window):
    """Let a posting window's time run out: its timer is made due and fired, as the beat task does."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.timers import fire_due_timers

    Task.objects.filter(pk=window.pk).update(scheduled=timezone.now())
    fire_due_timers()


def close_voting(session):
    """Let a council session's closing time pass: its ballot timers are made due and fired (as the beat
    task does); the session then closes with the ballots cast so far and is tallied."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS
    from viewflow.workflow.timers import fire_due_timers

    from workflow.tasks import fire_timers

    Task.objects.filter(process=session, flow_task_type="TIMER", status=STATUS.SCHEDULED).update(
        scheduled=timezone.now()
    )
    fired = fire_due_timers()
    fire_timers()  # the tally, due once the last ballot's timer has fired (beat's run does both)
    return fired
