"""Open tasks in bulk for ``manage.py bench_reminder_scan``: one bench case and chain, N open human
tasks whose due times spread from 10 days ago to 60 days ahead, each held by one user. Rows are
made with bulk inserts, not the services: what is measured is the scan, not the building."""

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
)
from workflow.flows import ApprovalFlow
from workflow.models import ApprovalCandidate, ApprovalProcess, ApprovalTask, ProcessTemplate, TemplateVersion
from workflow.process_templates import template_draft, template_publish


def build_open_tasks(count: int, *, around: datetime, seed: int = 2026) -> None:
    User = get_user_model()
    holder, _created = User.objects.get_or_create(username="bench.holder", defaults={"email": "bench@example.test"})
    unit, _created = OrganisationUnit.objects.get_or_create(
        code="BENCH", defaults={"name": "Đơn vị đo hiệu năng", "kind": UnitKind.UNIT}
    )
    Membership.objects.get_or_create(user=holder, unit=unit, role=Role.HEAD, defaults={"valid_from": date(2000, 1, 1)})
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
            "launching_unit": unit,
        },
    )
    nominee = Nominee.objects.create(unit=unit, kind="individual", name="Nguyễn Văn Đo")
    nomination = Nomination.objects.create(
        campaign=campaign, award_form=form, nominee=nominee, unit=unit, created_by=holder
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
    process = ApprovalProcess.objects.create(
        flow_class=ApprovalFlow,
        status=STATUS.NEW,
        subject_type=ContentType.objects.get_for_model(Nomination),
        subject_id=nomination.pk,
        version=version,
        structure_on=around.date(),
        position=1,
    )
    rng = random.Random(seed)
    task_model = ApprovalFlow.task_class
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        tasks = task_model.objects.bulk_create(
            task_model(
                process=process,
                flow_task=ApprovalFlow.decide,
                flow_task_type="HUMAN",
                status=STATUS.ASSIGNED,
                owner=holder,
            )
            for _ in range(size)
        )
        dues = [around + timedelta(minutes=rng.randint(-10 * 24 * 60, 60 * 24 * 60)) for _ in range(size)]
        ApprovalTask.objects.bulk_create(
            ApprovalTask(
                task=task,
                process=process,
                step=step,
                unit_id=unit.pk,
                unit_label=unit.name,
                assignee=holder,
                opened_at=around - timedelta(days=20),
                due_at=due,
            )
            for task, due in zip(tasks, dues, strict=True)
        )
        ApprovalCandidate.objects.bulk_create(
            ApprovalCandidate(approval_task_id=task.pk, user=holder, due_at=due)
            for task, due in zip(tasks, dues, strict=True)
        )
