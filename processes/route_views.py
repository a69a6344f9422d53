"""The route of a case for other tools: its template version as BPMN 2.0 XML."""

from __future__ import annotations

from django.http import Http404
from django.views.decorators.http import require_GET

from processes.permissions import user_scope
from processes.views import visible_nomination_or_404
from workflow.approvals import current_process
from workflow.bpmn import bpmn_response


@require_GET
def nomination_route_bpmn(request, pk):
    """The template version the case runs on, for whoever may see the case."""
    nomination = visible_nomination_or_404(request.user, pk, scope=user_scope(request.user))
    process = current_process(nomination)
    if process is None:
        raise Http404
    return bpmn_response(process.version)
