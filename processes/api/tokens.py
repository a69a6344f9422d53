"""API tokens: traded once for a user name and password, listed and revoked by their user.

Tokens are django-rest-knox's: the secret is shown once, the database keeps its SHA-512 digest and its
first characters (``token_key``, how the user tells their tokens apart). Administrators revoke any
token in the admin. Trading a password for a token goes through ``authenticate``, so the log-in
throttle (django-axes) locks an account or an address here as on the log-in page.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from processes.api.throttles import ScopedRate


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)


class TokenCreatedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("The secret: send it as “Authorization: Token <token>”. Shown once."))
    token_key = serializers.CharField(help_text=_("The token's first characters, to tell it apart in lists."))
    expiry = serializers.DateTimeField(allow_null=True)


class TokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["token_key", "created", "expiry", "current"]

    def get_current(self, token) -> bool:
        return token == getattr(self.context["request"], "auth", None)


class TokenCreateView(generics.GenericAPIView):
    """Trade a user name and password for a new token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRate]
    throttle_scope = "token"
    serializer_class = TokenRequestSerializer

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenCreatedSerializer}, auth=[])
    def post(self, request):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(request._request, **form.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"detail": _("Wrong user name or password.")}, code="invalid_login")
        token, secret = AuthToken.objects.create(user)
        return Response(
            TokenCreatedSerializer({"token": secret, "token_key": token.token_key, "expiry": token.expiry}).data,
            status=status.HTTP_201_CREATED,
        )


class TokenListView(generics.ListAPIView):
    """The current user's tokens (never their secrets)."""

    serializer_class = TokenSerializer
    pagination_class = None

    def get_queryset(self):
        return AuthToken.objects.filter(user=self.request.user).order_by("-created")


class TokenRevokeView(generics.DestroyAPIView):
    """Revoke one of the current user's tokens (another user's answers 404)."""

    serializer_class = TokenSerializer
    lookup_field = "token_key"
    lookup_value_regex = "[A-Za-z0-9_]+"

    def get_queryset(self):
        return AuthToken.objects.filter(user=self.request.user)
