"""A template version as BPMN 2.0 XML, for other modelling tools: a start event, a user task per
step, an exclusive gateway before each conditional step, the flows between them, an end event, and
the layout a drawing tool needs. Every id is made safe and unique; every name is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from django.http import HttpResponse
from django.utils.translation import gettext as _

from workflow.diagram import kind_tag, step_holder, step_mark
from workflow.models import StepAction, TemplateStep, TemplateVersion
from workflow.process_templates import version_steps

# --- the document ------------------------------------------------------------------------------------

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _safe_id(prefix: str, code: str, taken: set[str]) -> str:
    """An XML NCName from a code (letters, digits, ``_``, ``-``, ``.``), unique in the document."""
    base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]', '_', code)}"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    taken.add(candidate)
    return candidate


def template_bpmn(
    version: TemplateVersion,
    *,
    holder_label: Callable[[TemplateStep], str] | None = None,
    condition_label: Callable[[str], str] | None = None,
) -> bytes:
    """The version as a BPMN 2.0 ``definitions`` document (UTF-8): a start event, a user task per
    step, an exclusive gateway before each conditional step (the condition on its flow, the other
    flow its default), sequence flows, an end event, and a vertical diagram (BPMN DI)."""
    ET.register_namespace("bpmn", BPMN)
    ET.register_namespace("bpmndi", BPMNDI)
    ET.register_namespace("dc", DC)
    ET.register_namespace("di", DI)
    ET.register_namespace("xsi", XSI)
    steps = version_steps(version)
    taken: set[str] = set()
    process_id = _safe_id("Process", f"{version.template.code}_v{version.number}", taken)
    root = ET.Element(
        f"{{{BPMN}}}definitions",
        {
            "id": _safe_id("Definitions", f"{version.template.code}_v{version.number}", taken),
            "targetNamespace": "urn:thidua:process-templates",
            "exporter": "thidua",
            "exporterVersion": "1",
        },
    )
    process = ET.SubElement(
        root,
        f"{{{BPMN}}}process",
        {"id": process_id, "name": f"{version.template.name} v{version.number}", "isExecutable": "false"},
    )
    shapes: list[tuple[str, str, tuple[float, float, float, float]]] = []  # (id, kind, bounds)
    flows: list[tuple[str, str, str]] = []  # (id, source, target)
    centre, y = 200.0, 20.0

    def node(tag: str, node_id: str, name: str, size: tuple[float, float]) -> ET.Element:
        nonlocal y
        element = ET.SubElement(process, f"{{{BPMN}}}{tag}", {"id": node_id})
        if name:
            element.set("name", name)
        shapes.append((node_id, tag, (centre - size[0] / 2, y, size[0], size[1])))
        y += size[1] + 40
        return element

    node("startEvent", "StartEvent_1", _("Case submitted"), (36, 36))
    taken.add("StartEvent_1")
    pending: list[tuple[str, str | None]] = [("StartEvent_1", None)]  # sources waiting for the next node
    gateways: dict[str, ET.Element] = {}

    def connect(target: str) -> None:
        for source, condition in pending:
            flow_id = _safe_id("Flow", f"{source}_{target}", taken)
            flow = ET.SubElement(
                process, f"{{{BPMN}}}sequenceFlow", {"id": flow_id, "sourceRef": source, "targetRef": target}
            )
            if condition == "default":
                gateways[source].set("default", flow_id)
            elif condition:
                flow.set("name", condition)
                expression = ET.SubElement(
                    flow, f"{{{BPMN}}}conditionExpression", {f"{{{XSI}}}type": "bpmn:tFormalExpression"}
                )
                expression.text = condition
            flows.append((flow_id, source, target))
        pending.clear()

    for step in steps:
        if step.condition:
            gateway_id = _safe_id("Gateway", step.code, taken)
            mark = step_mark(step.condition, condition_label)
            connect(gateway_id)
            gateways[gateway_id] = node(
                "exclusiveGateway", gateway_id, _("Only when: %(mark)s") % {"mark": mark}, (50, 50)
            )
            pending.append((gateway_id, mark))
            task_id = _safe_id("Task", step.code, taken)
            connect(task_id)
            pending_after = [(gateway_id, "default")]
        else:
            task_id = _safe_id("Task", step.code, taken)
            connect(task_id)
            pending_after = []
        task = node("userTask", task_id, step.name, (220, 80))
        documentation = ET.SubElement(task, f"{{{BPMN}}}documentation")
        holder = step_holder(step, holder_label)
        _css, tag = kind_tag(step)
        documentation.text = " · ".join(
            part
            for part in (
                holder,
                tag,
                _("%(days)s working days") % {"days": step.deadline_working_days},
                ", ".join(str(StepAction(action).label) for action in step.actions if action in StepAction.values),
            )
            if part
        )
        pending.append((task_id, None))
        pending.extend(pending_after)
    connect("EndEvent_1")
    taken.add("EndEvent_1")
    node("endEvent", "EndEvent_1", _("Route finished"), (36, 36))

    diagram = ET.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", {"id": _safe_id("Diagram", process_id, taken)})
    plane = ET.SubElement(
        diagram, f"{{{BPMNDI}}}BPMNPlane", {"id": _safe_id("Plane", process_id, taken), "bpmnElement": process_id}
    )
    bounds_of = {}
    for element_id, tag, (x, top, width, height) in shapes:
        bounds_of[element_id] = (x, top, width, height)
        shape = ET.SubElement(
            plane,
            f"{{{BPMNDI}}}BPMNShape",
            {
                "id": f"{element_id}_di",
                "bpmnElement": element_id,
                **({"isMarkerVisible": "true"} if tag == "exclusiveGateway" else {}),
            },
        )
        ET.SubElement(
            shape, f"{{{DC}}}Bounds", {"x": f"{x:g}", "y": f"{top:g}", "width": f"{width:g}", "height": f"{height:g}"}
        )
    for flow_id, source, target in flows:
        edge = ET.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", {"id": f"{flow_id}_di", "bpmnElement": flow_id})
        sx, sy, sw, sh = bounds_of[source]
        tx, ty, tw, th = bounds_of[target]
        points = [(sx + sw / 2, sy + sh), (tx + tw / 2, ty)]
        if tx + tw / 2 == sx + sw / 2 and ty > sy + sh + 60:
            # A default flow skipping the conditional task: around it, on the right.
            points = [
                (sx + sw, sy + sh / 2),
                (centre + 150, sy + sh / 2),
                (centre + 150, ty + th / 2),
                (tx + tw, ty + th / 2),
            ]
        for px, py in points:
            ET.SubElement(edge, f"{{{DI}}}waypoint", {"x": f"{px:g}", "y": f"{py:g}"})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def bpmn_response(version: TemplateVersion) -> HttpResponse:
    """A template version as a BPMN 2.0 file to save (the case's link and the admin's answer so)."""
    response = HttpResponse(template_bpmn(version), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{version.template.code}-v{version.number}.bpmn"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
