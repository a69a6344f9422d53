"""Matrix rows of the core: tokens and reference data (readable by everyone signed in)."""

from tests.api.matrix import ALLOW, Row

ROWS = [
    Row(
        "api/v1/auth/token/",
        "post",
        lambda w: "/api/v1/auth/token/",
        default=400,
        expect={"anonymous": 400},
        body=lambda w: {"username": "nobody", "password": "wrong"},
        note="bad credentials: 400 for everyone",
    ),
    Row("auth/tokens/", "get", lambda w: "/api/v1/auth/tokens/", default=ALLOW),
    Row(
        "api/v1/auth/tokens/<str:token_key>/",
        "delete",
        lambda w: "/api/v1/auth/tokens/nosuchkey/",
        default=404,
        note="another user's or an unknown token: 404",
    ),
    Row("units/", "get", lambda w: "/api/v1/units/", default=ALLOW),
    Row("units/<id:pk>/", "get", lambda w: f"/api/v1/units/{w.org.ward.pk}/", default=ALLOW),
    Row("award-forms/", "get", lambda w: "/api/v1/award-forms/", default=ALLOW),
    Row("award-forms/<id:pk>/", "get", lambda w: f"/api/v1/award-forms/{w.org.city_form.pk}/", default=ALLOW),
    Row("campaigns/", "get", lambda w: "/api/v1/campaigns/", default=ALLOW),
    Row("campaigns/<id:pk>/", "get", lambda w: f"/api/v1/campaigns/{w.org.campaign.pk}/", default=ALLOW),
]
