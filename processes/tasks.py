"""Celery tasks of the domain: the tracker's large exports."""

from celery import shared_task

from processes import export


@shared_task(name=export.EXPORT, ignore_result=True, soft_time_limit=1800, time_limit=1900)
def export_nominations(job_id: int) -> str:
    return export.export_job_run(job_id=job_id)
