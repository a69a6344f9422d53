"""``/api/v1/``: each subject's routes, registered on one router."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from processes.api import reference, tokens

router = SimpleRouter()
router.register("units", reference.UnitViewSet, basename="unit")
router.register("award-forms", reference.AwardFormViewSet, basename="award-form")
router.register("campaigns", reference.CampaignViewSet, basename="campaign")

app_name = "api"
urlpatterns = [
    path("auth/token/", tokens.TokenCreateView.as_view(), name="token-create"),
    path("auth/tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<str:token_key>/", tokens.TokenRevokeView.as_view(), name="token-revoke"),
    *router.urls,
]
