from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic.base import RedirectView
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from notifications import health, metrics
from processes.account_views import PasswordResetView

# Django's default template names for the password views are the admin's (listed before our app):
# ours are named apart so the product's pages are shown.
accounts = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_finished.html"),
        name="password_change_done",
    ),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="registration/password_reset_new.html"),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_finished.html"),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("accounts/", include(accounts)),
    # The language switch is offered on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Browsers ask for /favicon.ico whatever the page links: send them to the icon the pages use.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=lazy(static, str)("processes/favicon.svg"), permanent=True)),
        name="favicon",
    ),
    # For load balancers, orchestrators and Prometheus: no log-in, no rate limit (README, "Health and metrics").
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The REST API, its OpenAPI 3 schema and the schema's interactive page (assets from drf-spectacular-sidecar).
    path("api/v1/", include("processes.api.urls")),
    path("api/v1/", include("notifications.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Its page is drf-spectacular's with the inline style in a file (api/swagger_ui.html): no exception to the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("notifications/", include("notifications.urls")),
    path("", include("processes.urls")),
]

# The product's own words for a bad request (the cause, where it is the user's to fix).
handler400 = "processes.error_views.bad_request"
handler404 = "processes.error_views.not_found"
