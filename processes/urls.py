from django.urls import path

from processes import (
    converters,  # noqa: F401  (registers <id:…>)
    council_views,
    dossier_views,
    replication_views,
    route_views,
    statistics_views,
    tracker_views,
    views,
    work_views,
)

app_name = "processes"
urlpatterns = [
    path("", work_views.my_work_view, name="my-work"),
    path("my-work/approve/", work_views.bulk_approve, name="my-work-approve"),
    path("cases/", tracker_views.tracker, name="nomination-list"),
    path("cases/export/", tracker_views.tracker_export, name="tracker-export"),
    path("cases/exports/<id:pk>/", tracker_views.export_progress, name="export-progress"),
    path("cases/exports/<id:pk>/download/", tracker_views.export_download, name="export-download"),
    path("nominations/new/", views.nomination_new, name="nomination-new"),
    path("nominees/new/", views.nominee_new, name="nominee-new"),
    path("nominations/<id:pk>/", views.nomination_detail, name="nomination-detail"),
    path("nominations/<id:pk>/transition/", views.nomination_transition, name="nomination-transition"),
    path("nominations/<id:pk>/edit/", views.nomination_edit, name="nomination-edit"),
    path("nominations/<id:pk>/steps/<id:task_id>/decide/", views.step_decide, name="step-decide"),
    path("nominations/<id:pk>/steps/<id:task_id>/reassign/", views.step_reassign_view, name="step-reassign"),
    path("inbox/", views.inbox, name="inbox"),
    path("council/", council_views.council, name="council"),
    path("council/sessions/<id:pk>/", council_views.council_session, name="council-session"),
    path("nominations/<id:pk>/objections/", council_views.objection_new, name="objection-new"),
    path(
        "nominations/<id:pk>/steps/<id:task_id>/consultations/",
        council_views.consultation_new,
        name="consultation-new",
    ),
    path("consultations/<id:pk>/", council_views.consultation_detail, name="consultation"),
    path("nominations/<id:pk>/files/", dossier_views.dossier_upload, name="dossier-upload"),
    path("files/<id:pk>/download/", dossier_views.dossier_download, name="dossier-download"),
    path("nominations/<id:pk>/route.bpmn", route_views.nomination_route_bpmn, name="nomination-route-bpmn"),
    path("files/<id:pk>/preview/", dossier_views.dossier_preview, name="dossier-preview"),
    path("files/<id:pk>/remove/", dossier_views.dossier_remove, name="dossier-remove"),
    path("files/<id:pk>/replace/", dossier_views.dossier_replace, name="dossier-replace"),
    path("nominations/<id:pk>/replication/activities/", replication_views.activity_new, name="activity-new"),
    path("nominations/<id:pk>/replication/plan/", replication_views.plan_set, name="replication-plan"),
    path("nominations/<id:pk>/replication/close/", replication_views.replication_close, name="replication-close"),
    path("evidence/<id:pk>/download/", replication_views.evidence_download, name="evidence-download"),
    path("statistics/", statistics_views.statistics, name="statistics"),
    path("statistics/download/", statistics_views.statistics_download, name="statistics-download"),
]
