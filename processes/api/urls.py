"""``/api/v1/``: the viewsets on one router, the other views as paths; every id in a path is ``<id:…>``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from processes import converters  # noqa: F401  (registers <id:…>)
from processes.api import council, decisions, files, nominations, reference, templates, tokens, work

# Path converters, not regexes: detail routes take ``<id:pk>`` (processes.converters) like the screens'.
router = SimpleRouter(use_regex_path=False)
router.register("units", reference.UnitViewSet, basename="unit")
router.register("award-forms", reference.AwardFormViewSet, basename="award-form")
router.register("campaigns", reference.CampaignViewSet, basename="campaign")
router.register("nominees", nominations.NomineeViewSet, basename="nominee")
router.register("nominations", nominations.NominationViewSet, basename="nomination")

app_name = "api"
urlpatterns = [
    path("auth/token/", tokens.TokenCreateView.as_view(), name="token-create"),
    path("auth/tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<str:token_key>/", tokens.TokenRevokeView.as_view(), name="token-revoke"),
    *router.urls,
    path("nominations/<id:pk>/files/", files.NominationFilesView.as_view(), name="nomination-files"),
    path("files/<id:pk>/download/", files.FileDownloadView.as_view(), name="file-download"),
    path("my-work/", work.MyWorkView.as_view(), name="my-work"),
]

# Issue 13, decisions, council, signed decisions and templates (api-decisions).
urlpatterns += [
    path("decisions/", decisions.DecisionListView.as_view(), name="decision-list"),
    path("decisions/<id:pk>/", decisions.DecisionDetailView.as_view(), name="decision-detail"),
    path("templates/", templates.TemplateListView.as_view(), name="template-list"),
    path("templates/<id:pk>/", templates.TemplateDetailView.as_view(), name="template-detail"),
    path("steps/decide/", decisions.BulkDecideView.as_view(), name="step-bulk-decide"),
    path("steps/<id:task_id>/decide/", decisions.StepDecideView.as_view(), name="step-decide"),
    path("decisions/sign/", decisions.DecisionSignView.as_view(), name="decision-sign"),
    path("decisions/<id:pk>/decision.docx", decisions.DecisionDocxView.as_view(), name="decision-docx"),
    path("decisions/<id:pk>/certificates.docx", decisions.CertificatesDocxView.as_view(), name="decision-certificates"),
    path("council/sessions/", council.SessionListView.as_view(), name="council-session-list"),
    path("council/sessions/<id:pk>/", council.SessionDetailView.as_view(), name="council-session"),
    path("council/sessions/<id:pk>/ballot/", council.BallotView.as_view(), name="council-ballot"),
    path("templates/<id:pk>/draft/", templates.DraftView.as_view(), name="template-draft"),
    path("template-versions/<id:pk>/", templates.VersionDetailView.as_view(), name="template-version"),
    path("template-versions/<id:pk>/steps/", templates.DraftStepsView.as_view(), name="template-version-steps"),
    path("template-versions/<id:pk>/publish/", templates.PublishView.as_view(), name="template-version-publish"),
]
