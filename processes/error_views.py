"""The product's own answers to a bad request: Vietnamese, and saying what was wrong where that is safe."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults


def bad_request(request, exception, template_name="400.html"):
    """Django's 400 view says nothing of the cause on purpose; the causes below are the user's own
    (a form too large, too many fields) and telling them is what lets them fix it."""
    if isinstance(exception, RequestDataTooBig):
        reason = _(
            "The form sent is larger than the %(limit)s the application accepts for text. Shorten it; "
            "files go through the upload on the case page (up to %(files)s each)."
        ) % {
            "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
            "files": filesizeformat(settings.DOSSIER_MAX_UPLOAD_BYTES),
        }
    elif isinstance(exception, TooManyFilesSent):
        reason = _("Too many files were sent at once. Upload them one at a time on the case page.")
    elif isinstance(exception, TooManyFieldsSent):
        reason = _("The form sent has too many fields. Reload the page and send it again.")
    else:
        reason = ""
    template = loader.get_template(template_name)
    return HttpResponseBadRequest(template.render({"reason": reason}, request))


def not_found(request, exception, template_name="404.html"):
    """A path under ``/api/`` that no route matches (``/api/v1/units/1.5/``) answers as the API's own 404s
    do, in JSON: its clients read no HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception, template_name)
