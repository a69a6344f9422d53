"""The public pages, readable without log-in, each only when its setting turns it on (else 404): the
nominees in their posting window with a form to object, and the lookup of awards granted.

Every request counts against its client address's limit (``PUBLIC_RATE_LIMIT``), an objection sent
against a stricter one too (``PUBLIC_OBJECTION_RATE_LIMIT``), in the cache every web process shares
(``RATELIMIT_USE_CACHE``); over a limit the answer is a 429 page.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from processes import errors, services
from processes.filters import words_filter
from processes.models import Nomination
from processes.network import client_address
from processes.public_forms import AwardsLookupForm, PageForm, PublicObjectionForm
from processes.selectors.public import awards_granted, posted_nominee, posted_nominees


def _client_key(group, request) -> str:
    return client_address(request) or "unknown"


def _page_rate(group, request) -> str:
    return settings.PUBLIC_RATE_LIMIT


def _objection_rate(group, request) -> str:
    return settings.PUBLIC_OBJECTION_RATE_LIMIT


def _render(request, template: str, context: dict | None = None, **kwargs):
    """A public page, its menu naming the public pages that are on."""
    published = {"public_posting": settings.PUBLIC_POSTING_PAGE, "public_awards": settings.PUBLIC_AWARDS_LOOKUP}
    return render(request, template, {**published, **(context or {})}, **kwargs)


def too_many_requests(request):
    response = _render(request, "public/too_many.html", status=429)
    response["Retry-After"] = "60"
    return response


def public_page(setting: str):
    """The view answers anyone while ``settings.<setting>`` is on (404 otherwise), within the rate."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not getattr(settings, setting):
                raise Http404
            if is_ratelimited(request, group="public", key=_client_key, rate=_page_rate, increment=True):
                return too_many_requests(request)
            return view(request, *args, **kwargs)

        return login_not_required(wrapped)

    return decorate


@require_GET
@public_page("PUBLIC_POSTING_PAGE")
def posting(request):
    form = PageForm(request.GET)
    after = form.cleaned_data["after"] if form.is_valid() else None
    nominees, following = posted_nominees(after=after)
    return _render(
        request,
        "public/posting.html",
        {"nominees": nominees, "following": following, "form": PublicObjectionForm(), "page_error": form.errors},
    )


@require_http_methods(["GET", "POST"])
@public_page("PUBLIC_POSTING_PAGE")
def posting_objection(request, pk):
    nominee = posted_nominee(pk)
    if nominee is None:  # no such case, or its window is not open: nothing more is said
        raise Http404
    status = 200
    if request.method == "POST":
        if is_ratelimited(request, group="public-objection", key=_client_key, rate=_objection_rate, increment=True):
            return too_many_requests(request)
        form = PublicObjectionForm(request.POST)
        if form.is_valid():
            if not form.from_a_program:
                data = form.cleaned_data
                try:
                    services.objection_submit_public(
                        nomination=Nomination.objects.get(pk=nominee.nomination_id),
                        author=data["author"],
                        contact=data["contact"],
                        content=data["content"],
                        client_address=client_address(request),
                    )
                except errors.TransitionNotAllowed:  # the window closed meanwhile
                    raise Http404 from None
                except errors.DomainError as error:
                    form.add_error(None, str(error))
            if not form.errors:
                messages.success(
                    request,
                    _(
                        "Thank you: your objection has reached the Emulation and Commendation Board, "
                        "which will look into it."
                    ),
                )
                return redirect("processes:public-posting")
        status = 400
    else:
        form = PublicObjectionForm()
    return _render(request, "public/objection.html", {"nominee": nominee, "form": form}, status=status)


@require_GET
@public_page("PUBLIC_AWARDS_LOOKUP")
def awards(request):
    form = AwardsLookupForm(request.GET)
    query, after = "", None
    if form.is_valid():
        query, after = form.cleaned_data["q"] or "", form.cleaned_data["after"]
    found, following = awards_granted(
        match=words_filter(query, field="nomination__search_text"),
        from_year=settings.PUBLIC_AWARDS_FROM_YEAR,
        after=after,
    )
    return _render(
        request,
        "public/awards.html",
        {
            "form": form,
            "query": query,
            "awards": found,
            "following": following,
            "from_year": settings.PUBLIC_AWARDS_FROM_YEAR,
        },
    )
