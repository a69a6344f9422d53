"""``/api/v1/``: each subject's routes, registered on one router."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from processes.api import files, nominations, reference, tokens, work

router = SimpleRouter()
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
    path("nominations/<int:pk>/files/", files.NominationFilesView.as_view(), name="nomination-files"),
    path("files/<int:pk>/download/", files.FileDownloadView.as_view(), name="file-download"),
    path("my-work/", work.MyWorkView.as_view(), name="my-work"),
]
