from django.urls import path

from processes import (
    converters,  # noqa: F401  (registers <id:…>)
    council_views,
    dashboard_views,
    decision_views,
    document_views,
    dossier_views,
    public_views,
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
    path("public/posting/", public_views.posting, name="public-posting"),
    path("public/posting/<id:pk>/objection/", public_views.posting_objection, name="public-objection"),
    path("public/awards/", public_views.awards, name="public-awards"),
    path("dashboard/", dashboard_views.dashboard_view, name="dashboard"),
]
# Issue 12, the papers (processes/document_views.py).
urlpatterns += [
    path("decisions/<id:pk>/print/", document_views.decision_print, name="decision-print"),
    path("decisions/<id:pk>/decision.docx", document_views.decision_docx, name="decision-docx"),
    path("decisions/<id:pk>/certificates.docx", document_views.decision_certificates, name="decision-certificates"),
    path("council/sessions/<id:pk>/minutes/", document_views.minutes_print, name="council-minutes"),
    path("council/sessions/<id:pk>/minutes.docx", document_views.minutes_docx, name="council-minutes-docx"),
    path("documents/", document_views.unit_papers, name="unit-papers"),
    path(
        "documents/units/<id:unit>/campaigns/<id:campaign>/proposal/",
        document_views.proposal_print,
        name="proposal-print",
    ),
    path(
        "documents/units/<id:unit>/campaigns/<id:campaign>/proposal.docx",
        document_views.proposal_docx,
        name="proposal-docx",
    ),
    path(
        "documents/units/<id:unit>/campaigns/<id:campaign>/summary-list/",
        document_views.summary_list_print,
        name="summary-list-print",
    ),
    path(
        "documents/units/<id:unit>/campaigns/<id:campaign>/summary-list.docx",
        document_views.summary_list_docx,
        name="summary-list-docx",
    ),
]
# Issue 12, signing (processes/decision_views.py).
urlpatterns += [
    path("decisions/", decision_views.decision_list_view, name="decision-list"),
    path("decisions/sign/", decision_views.decision_sign_page, name="decision-sign"),
    path("decisions/sign/confirm/", decision_views.decision_sign_confirm, name="decision-sign-confirm"),
    path("decisions/<id:pk>/", decision_views.decision_detail, name="decision-detail"),
]
# Issue 12, the replicate stage and the statistics (processes/replication_views.py, statistics_views.py).
urlpatterns += [
    path("nominations/<id:pk>/replication/activities/", replication_views.activity_new, name="activity-new"),
    path("nominations/<id:pk>/replication/plan/", replication_views.plan_set, name="replication-plan"),
    path("nominations/<id:pk>/replication/close/", replication_views.replication_close, name="replication-close"),
    path("evidence/<id:pk>/download/", replication_views.evidence_download, name="evidence-download"),
    path("statistics/", statistics_views.statistics, name="statistics"),
    path("statistics/download/", statistics_views.statistics_download, name="statistics-download"),
]
