"""The case tracker's list as an Excel workbook (.xlsx, openpyxl).

Headers in the user's language (Vietnamese by default); dates as real dates shown dd/mm/yyyy; ID
numbers masked unless ``permissions.may_see_id_numbers``; and any text a spreadsheet would read as a
formula (a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a nominee
called ``=HYPERLINK(…)``) written with a leading apostrophe, so it stays text (OWASP's CSV injection
advice, which applies to .xlsx opened in any spreadsheet).

Up to ``settings.EXPORT_STREAM_MAX_ROWS`` rows are written in the request; more are written by the
Celery task ``processes.export_nominations`` into ``settings.EXPORT_ROOT``, with its progress in an
``ExportJob`` row that the progress page reads; only the user who asked may download the file.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path
from typing import IO

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from processes.filters import TrackerFilter
from processes.models import ExportJob, Nomination
from processes.permissions import may_see_id_numbers, user_scope
from processes.selectors.tracker import tracker_rows

logger = logging.getLogger(__name__)

EXPORT = "processes.export_nominations"
DEFAULT_STREAM_MAX_ROWS = 2000
DATE_FORMAT = "dd/mm/yyyy"
#: What makes a spreadsheet read a cell as a formula (or as the start of one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = [
    (_("No."), 6),
    (_("Nominee"), 30),
    (_("Nominee kind"), 12),
    (_("ID number"), 16),
    (_("Award form"), 30),
    (_("Campaign"), 24),
    (_("Proposing unit"), 30),
    (_("Stage"), 16),
    (_("Open step"), 28),
    (_("Held by"), 24),
    (_("Due date"), 12),
    (_("Decision number"), 18),
    (_("Opened on"), 12),
    (_("Updated on"), 12),
]


def neutralise(value: str) -> str:
    """Text that stays text in a spreadsheet: a leading apostrophe before a formula's first character."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def stream_max_rows() -> int:
    return getattr(settings, "EXPORT_STREAM_MAX_ROWS", DEFAULT_STREAM_MAX_ROWS)


def export_root() -> Path:
    return Path(getattr(settings, "EXPORT_ROOT", settings.VAR_DIR / "exports"))


def _text(sheet, value) -> WriteOnlyCell:
    return WriteOnlyCell(sheet, value=neutralise(str(value or "")))


def _date(sheet, moment) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=timezone.localdate(moment) if moment else None)
    if moment:
        cell.number_format = DATE_FORMAT
    return cell


def _row(sheet, number: int, nomination: Nomination, *, reveal_ids: bool) -> list[WriteOnlyCell]:
    nominee, steps = nomination.nominee, nomination.open_steps
    decision = getattr(nomination, "decision", None)
    return [
        WriteOnlyCell(sheet, value=number),
        _text(sheet, nominee.name),
        _text(sheet, nominee.get_kind_display()),
        _text(sheet, nominee.id_number if reveal_ids else nominee.masked_id_number),
        _text(sheet, nomination.award_form.name),
        _text(sheet, nomination.campaign.name),
        _text(sheet, nomination.unit.name),
        _text(sheet, nomination.get_stage_display()),
        _text(sheet, "; ".join(step.step.name for step in steps)),
        _text(sheet, "; ".join(step.holder_names for step in steps if step.holder_names)),
        _date(sheet, steps[0].due_at if steps else None),
        _text(sheet, decision.number if decision else ""),
        _date(sheet, nomination.created_at),
        _date(sheet, nomination.updated_at),
    ]


def write_workbook(out: IO[bytes], filterset: TrackerFilter, *, user, progress=None) -> int:
    """Write every row ``filterset`` selects into ``out``; ``progress(rows_done)`` after each batch."""
    reveal_ids = may_see_id_numbers(user, scope=filterset.scope)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(_("Nominations"))[:31])
    for index, (_label, width) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    headers = []
    for label, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        headers.append(cell)
    sheet.append(headers)
    done = 0
    for batch in tracker_rows(filterset.qs):
        for nomination in batch:
            done += 1
            sheet.append(_row(sheet, done, nomination, reveal_ids=reveal_ids))
        if progress is not None:
            progress(done)
    book.save(out)
    return done


def download_name() -> str:
    return f"ho-so-{timezone.localdate():%Y-%m-%d}.xlsx"


# --- the large export, through Celery ------------------------------------------------------------------


def publish(job_id: int) -> None:
    """Hand the job to a worker, by the task's name."""
    current_app.send_task(EXPORT, args=[job_id], retry=False)


def _publish_or_fail(job_id: int) -> None:
    try:
        publish(job_id)
    except Exception:  # the broker is down: say so on the progress page rather than wait forever
        logger.exception("export %s: the task could not be queued", job_id)
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
            status=ExportJob.Status.FAILED, error="queue", finished_at=timezone.now()
        )


def export_job_start(*, user, query: str, total: int) -> ExportJob:
    """Record the export and queue its task once the row is committed."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, query=query, total=total, language=translation.get_language() or settings.LANGUAGE_CODE
        )
        transaction.on_commit(partial(_publish_or_fail, job.pk))
    return job


def export_job_run(*, job_id: int) -> str:
    """Write the job's file (again, if a worker died half way: the file is replaced whole). Returns
    the job's status; a job already done or failed is left as it is."""
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        return job.status if job else "missing"
    user = get_user_model()._default_manager.get(pk=job.user_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, done=0)
    root = export_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / job.file_name
    partial_file = final.with_suffix(".part")
    with translation.override(job.language):
        filterset = TrackerFilter(QueryDict(job.query), user=user, scope=user_scope(user))
        filterset.is_valid()
        total = filterset.qs.count()
        ExportJob.objects.filter(pk=job.pk).update(total=total)
        try:
            with partial_file.open("wb") as out:
                write_workbook(
                    out,
                    filterset,
                    user=user,
                    progress=lambda done: ExportJob.objects.filter(pk=job.pk).update(done=done),
                )
            os.replace(partial_file, final)
        except Exception:
            partial_file.unlink(missing_ok=True)
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportJob.Status.FAILED, error="write", finished_at=timezone.now()
            )
            raise
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE, finished_at=timezone.now())
    return ExportJob.Status.DONE


def export_file(job: ExportJob) -> Path:
    return export_root() / job.file_name
