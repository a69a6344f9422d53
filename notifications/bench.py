"""Open tasks in bulk for ``manage.py bench_reminder_scan``: N open human tasks over many cases,
units and holders, whose due times spread from 10 days ago to 60 days ahead. Rows are made with bulk
inserts, not the services: what is measured is the scan, not the building."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from viewflow.workflow.status import STATUS

from processes.models import (
    AwardForm,
    Campaign,
    DecisionLevel,
    Membership,
    Nomination,
    Nominee,
    OrganisationUnit,
    Role,
    UnitKind,
    UnitLink,
)
from workflow.flows import ApprovalFlow
from workflow.models import ApprovalCandidate, ApprovalProcess, ApprovalTask, ProcessTemplate, TemplateVersion
from workflow.process_templates import template_draft, template_publish


def build_open_tasks(count: int, *, around: datetime, seed: int = 2026) -> None:
    """``count`` open tasks over ``count // 100`` cases in 50 units under one parent unit (whose head
    is told of escalations), held by 500 people; one task in ten is a group step held by two."""
    rng = random.Random(seed)
    User = get_user_model()
    parent, _created = OrganisationUnit.objects.get_or_create(
        code="BENCH", defaults={"name": "Sở đo hiệu năng", "kind": UnitKind.DEPARTMENT}
    )
    chief = User.objects.create(username="bench.chief", email="bench.chief@example.test", first_name="Trưởng")
    Membership.objects.create(user=chief, unit=parent, role=Role.HEAD, valid_from=date(2000, 1, 1))
    units = OrganisationUnit.objects.bulk_create(
        OrganisationUnit(code=f"BENCH.{n}", name=f"Phòng đo hiệu năng {n}", kind=UnitKind.UNIT) for n in range(50)
    )
    UnitLink.objects.bulk_create(UnitLink(unit=unit, parent=parent, valid_from=date(2000, 1, 1)) for unit in units)
    holders = User.objects.bulk_create(
        User(username=f"bench.holder.{n}", email=f"bench.holder.{n}@example.test", first_name=f"Người {n}")
        for n in range(500)
    )
    Membership.objects.bulk_create(
        Membership(user=user, unit=units[n % 50], role=Role.MEMBER, valid_from=date(2000, 1, 1))
        for n, user in enumerate(holders)
    )
    form, _created = AwardForm.objects.get_or_create(
        code="BENCH",
        defaults={"name": "Bench", "decision_level": DecisionLevel.UNIT_LEVEL_HEAD, "for_individual": True},
    )
    campaign, _created = Campaign.objects.get_or_create(
        code="BENCH",
        defaults={
            "name": "Bench",
            "kind": "regular",
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "submission_deadline": date(2026, 12, 31),
            "launching_unit": parent,
        },
    )
    cases = max(1, count // 100)
    nominees = Nominee.objects.bulk_create(
        Nominee(unit=units[n % 50], kind="individual", name=f"Nguyễn Văn Đo {n}") for n in range(cases)
    )
    nominations = Nomination.objects.bulk_create(
        Nomination(campaign=campaign, award_form=form, nominee=nominee, unit=nominee.unit, created_by=chief)
        for nominee in nominees
    )
    template, created = ProcessTemplate.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    if created:
        draft = template_draft(template=template, by=None)
        draft.steps.create(
            position=1,
            code="confirm",
            name="Xác nhận",
            approver_rule="subject_unit_head",
            actions=["approve", "return", "reject"],
            deadline_working_days=5,
            reminder_offsets=[2, 1],
        )
        template_publish(version=draft, by=None, effective_from=date(2000, 1, 1))
    version = TemplateVersion.objects.get(template=template, status=TemplateVersion.Status.PUBLISHED)
    step = version.steps.get()
    subject_type = ContentType.objects.get_for_model(Nomination)
    processes = [  # a multi-table model: no bulk insert
        ApprovalProcess.objects.create(
            flow_class=ApprovalFlow,
            status=STATUS.NEW,
            subject_type=subject_type,
            subject_id=nomination.pk,
            version=version,
            structure_on=around.date(),
            position=1,
        )
        for nomination in nominations
    ]
    task_model = ApprovalFlow.task_class
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        owners = [rng.randrange(500) for _ in range(size)]
        tasks = task_model.objects.bulk_create(
            task_model(
                process=processes[(start + n) % cases],
                flow_task=ApprovalFlow.decide,
                flow_task_type="HUMAN",
                status=STATUS.ASSIGNED,
                owner=holders[owners[n]],
            )
            for n in range(size)
        )
        dues = [around + timedelta(minutes=rng.randint(-10 * 24 * 60, 60 * 24 * 60)) for _ in range(size)]
        ApprovalTask.objects.bulk_create(
            ApprovalTask(
                task=task,
                process=task.process,
                step=step,
                unit_id=units[owner % 50].pk,
                unit_label=units[owner % 50].name,
                assignee=holders[owner],
                opened_at=around - timedelta(days=20),
                due_at=due,
            )
            for task, due, owner in zip(tasks, dues, owners, strict=True)
        )
        candidates = []
        for n, (task, due, owner) in enumerate(zip(tasks, dues, owners, strict=True)):
            candidates.append(ApprovalCandidate(approval_task_id=task.pk, user=holders[owner], due_at=due))
            if n % 10 == 0:  # a group step: a second member of the unit holds it too
                other = holders[(owner + 50) % 500]
                candidates.append(ApprovalCandidate(approval_task_id=task.pk, user=other, due_at=due))
        ApprovalCandidate.objects.bulk_create(candidates)
