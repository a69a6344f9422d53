"""A template version drawn for people, as SVG (its BPMN 2.0 export for other tools is ``workflow.bpmn``).

Built as an element tree by the standard library, which escapes every text and attribute: a
step (or a name the caller puts in the title) called ``<script>`` stays text. Nothing here names a role of the
domain: a step's name comes from its row; who holds it and what a condition means are the domain's
words, asked of the subject adapter (``holder_label``, ``step_marks``) unless the caller passes its
own callables.

``template_svg(version, progress)`` draws the steps top to bottom, one box per step: its name, who
holds it, and, with ``progress`` (one ``StepProgress`` per step position, from the domain's
selector), who decided it and when, or who holds it now and until when. Kinds look different (a
vote, a public posting, a step that may consult other agencies); a return for completion is a loop
on the left (the case resumes at the step that returned it), a vote's send-back an edge on the right
to the step it goes back to. The SVG carries presentation attributes only (no ``style``, no script),
so the page's content security policy lets it render inline; its ``viewBox`` lets it scale to the
width it is given.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from workflow.kinds import kind_of
from workflow.models import StepAction, TemplateStep, TemplateVersion
from workflow.process_templates import version_steps
from workflow.records import send_back_target
from workflow.subject import subject_adapter

DECIDED, CURRENT, AHEAD, SKIPPED = "decided", "current", "ahead", "skipped"


@dataclass(frozen=True)
class StepProgress:
    """Where one step of a case stands: decided (``who``, ``when``, ``outcome``), current (``holder``,
    ``due``, ``overdue``), ahead, or skipped (its condition does not apply to the case)."""

    state: str = AHEAD
    who: str = ""
    when: datetime | None = None
    outcome: str = ""
    holder: str = ""
    due: datetime | None = None
    overdue: bool = False


# --- shared reading of a version -----------------------------------------------------------------


def step_holder(step: TemplateStep, holder_label) -> str:
    return holder_label(step) if holder_label else subject_adapter().holder_label(step=step)


def step_mark(mark: str, condition_label) -> str:
    if condition_label:
        return condition_label(mark)
    return str(dict(subject_adapter().step_marks()).get(mark, mark))


def _sends_back(step: TemplateStep) -> bool:
    return StepAction.SEND_BACK in kind_of(step).engine_decisions(step)


def _may_consult(step: TemplateStep) -> bool:
    return kind_of(step).may_consult(step, group_rules=subject_adapter().group_rules())


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


# --- SVG -----------------------------------------------------------------------------------------

WIDTH = 400
BOX_X, BOX_W = 56, 288
LINE = 15
WRAP = 36  # a step's name, in bold at 12 user units: about 7 units a letter in a 268-unit box
PAD = 10
GAP = 30

#: (fill, stroke, stroke width, dash) by state.
STATE_LOOK = {
    DECIDED: ("#e8f5e9", "#2e7d32", "1.5", ""),
    CURRENT: ("#fff4ce", "#b35900", "3", ""),
    AHEAD: ("#ffffff", "#5c6770", "1.2", ""),
    SKIPPED: ("#f2f2f2", "#9e9e9e", "1", "4 3"),
}
TEXT = "#1d2327"
MUTED = "#5c6770"


def kind_tag(step: TemplateStep) -> tuple[str, str]:
    """(class, words) for the kind of a step: what sets its box apart besides its outline."""
    kind = kind_of(step)
    if kind.in_session:
        return "vote", _("Vote in session (secret ballot)")
    if kind.runs_out:
        return "posting", _("Public posting (runs out by itself)")
    return "decision", ""


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(
        parent, tag, {key.rstrip("_").replace("_", "-"): str(value) for key, value in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def _step_lines(
    step, number: int | None, progress: StepProgress | None, holder_label, condition_label
) -> list[tuple[str, str]]:
    """The lines of a step's box, each (role, text): name, kind, holder, condition, progress."""
    name = f"{number}. {step.name}" if number else step.name
    lines = [("name", line) for line in textwrap.wrap(name, WRAP) or [""]]
    _css, tag = kind_tag(step)
    if tag:
        lines.append(("kind", tag))
    holder = step_holder(step, holder_label)
    lines += [("holder", line) for line in textwrap.wrap(holder, WRAP + 6)]
    if step.condition:
        mark = step_mark(step.condition, condition_label)
        lines += [("condition", line) for line in textwrap.wrap(_("Only when: %(mark)s") % {"mark": mark}, WRAP + 6)]
    if progress is not None:
        if progress.state == DECIDED:
            parts = ["✓ " + (progress.outcome or _("Done")), progress.who, _moment(progress.when)]
            lines += [("progress", line) for line in textwrap.wrap(" · ".join(p for p in parts if p), WRAP + 6)]
        elif progress.state == CURRENT:
            parts = ["▶ " + (progress.holder or _("Nobody holds it yet"))]
            if progress.due:
                parts.append(_("due %(when)s") % {"when": _moment(progress.due)})
            if progress.overdue:
                parts.append(_("overdue"))
            lines += [("progress", line) for line in textwrap.wrap(" · ".join(parts), WRAP + 6)]
        elif progress.state == SKIPPED:
            lines.append(("progress", _("Not taken for this case")))
    return lines


def template_svg(
    version: TemplateVersion,
    progress: Mapping[int, StepProgress] | None = None,
    *,
    holder_label: Callable[[TemplateStep], str] | None = None,
    condition_label: Callable[[str], str] | None = None,
    title: str = "",
) -> str:
    """The version's route as an inline SVG document (a string of markup, every name escaped)."""
    steps = version_steps(version)
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "route-diagram",
            "role": "img",
            "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            "font-size": "12",
        },
    )
    _el(
        svg,
        "title",
        title
        or _("Route of %(template)s, version %(number)s")
        % {
            "template": version.template.name,
            "number": version.number,
        },
    )
    defs = _el(svg, "defs")
    for marker_id, colour in (("arrow", MUTED), ("arrow-back", "#8e24aa"), ("arrow-return", "#c62828")):
        marker = _el(
            defs,
            "marker",
            id=marker_id,
            viewBox="0 0 10 10",
            refX="9",
            refY="5",
            markerWidth="7",
            markerHeight="7",
            orient="auto-start-reverse",
        )
        _el(marker, "path", d="M0,0 L10,5 L0,10 z", fill=colour)

    centre = BOX_X + BOX_W / 2
    y = 12
    _el(svg, "circle", class_="start", cx=centre, cy=y + 9, r=9, fill="#ffffff", stroke=TEXT, stroke_width="1.5")
    y += 18
    boxes: dict[int, tuple[float, float]] = {}
    body = _el(svg, "g", class_="steps")
    number = 0
    for step in steps:
        state = progress.get(step.position) if progress is not None else None
        # Numbered as the case counts them ("step 3 of 6"): a step skipped for the case has no number.
        number += 0 if state is not None and state.state == SKIPPED else 1
        lines = _step_lines(
            step, None if state is not None and state.state == SKIPPED else number, state, holder_label, condition_label
        )
        _el(
            body,
            "line",
            class_="flow",
            x1=centre,
            y1=y,
            x2=centre,
            y2=y + GAP - 2,
            stroke=MUTED,
            stroke_width="1.5",
            marker_end="url(#arrow)",
        )
        y += GAP
        height = PAD * 2 + LINE * len(lines)
        css, _tag = kind_tag(step)
        look = STATE_LOOK[state.state if state else AHEAD]
        classes = ["step", css, state.state if state else "plain"]
        if step.condition:
            classes.append("conditional")
        group = _el(body, "g", class_=" ".join(classes), id=f"step-{step.position}")
        if state is not None and state.state == CURRENT:
            group.set("aria-current", "step")
        fill, stroke, stroke_width, dash = look
        shape = {
            "x": BOX_X,
            "y": y,
            "width": BOX_W,
            "height": height,
            "fill": fill,
            "stroke": stroke,
            "stroke-width": stroke_width,
        }
        if css == "vote":
            shape.update(rx="18")  # a vote: a rounded pill with a second outline
        elif css == "posting":
            shape.update({"rx": "2", "stroke-dasharray": dash or "8 4"})
        else:
            shape.update(rx="6")
            if dash:
                shape["stroke-dasharray"] = dash
        ET.SubElement(group, "rect", {key: str(value) for key, value in shape.items()})
        if css == "vote":
            _el(
                group,
                "rect",
                x=BOX_X + 4,
                y=y + 4,
                width=BOX_W - 8,
                height=height - 8,
                rx="14",
                fill="none",
                stroke=stroke,
                stroke_width="0.8",
            )
        for index, (role, text) in enumerate(lines):
            attrs = {
                "x": BOX_X + PAD + (6 if css == "vote" else 0),
                "y": y + PAD + LINE * index + 11,
                "fill": TEXT if role in ("name", "progress") else MUTED,
                "class_": role,
            }
            if role == "name":
                attrs["font-weight"] = "bold"
            else:
                attrs["font-size"] = "11"
            if role in ("kind", "condition"):
                attrs["font-style"] = "italic"
            if role == "progress" and state is not None and state.state == CURRENT:
                attrs["font-weight"] = "bold"
            _el(group, "text", text, **attrs)
        boxes[step.position] = (y, height)
        if _may_consult(step):
            # Consultation: other agencies asked for their opinion while the step is open.
            cy = y + height / 2
            _el(
                body,
                "line",
                class_="consult-edge",
                x1=BOX_X + BOX_W,
                y1=cy,
                x2=BOX_X + BOX_W + 14,
                y2=cy,
                stroke="#00695c",
                stroke_dasharray="2 2",
            )
            consult = _el(body, "g", class_="consultation")
            _el(consult, "title", _("May ask other agencies for their opinion"))
            _el(
                consult,
                "rect",
                x=BOX_X + BOX_W + 14,
                y=cy - 12,
                width=40,
                height=24,
                rx="12",
                fill="#e0f2f1",
                stroke="#00695c",
            )
            _el(
                consult,
                "text",
                _("Opinion"),
                x=BOX_X + BOX_W + 34,
                y=cy + 4,
                text_anchor="middle",
                fill="#00695c",
                font_size="9",
            )
        if StepAction.RETURN in step.actions:
            top, bottom = y + 10, y + height - 10
            loop = _el(body, "g", class_="return-edge")
            _el(loop, "title", _("Return for completion to the proposing unit; the case resumes at this step"))
            _el(
                loop,
                "path",
                d=f"M{BOX_X},{top} H{BOX_X - 26} V{bottom} H{BOX_X - 2}",
                fill="none",
                stroke="#c62828",
                stroke_width="1.3",
                stroke_dasharray="5 3",
                marker_end="url(#arrow-return)",
            )
            _el(loop, "text", "↩", x=BOX_X - 44, y=(top + bottom) / 2 + 5, fill="#c62828", font_size="15")
        y += height
    for step in steps:
        if not _sends_back(step):
            continue
        target = send_back_target(steps, step.position)
        if target is None or target not in boxes:
            continue
        (from_y, from_h), (to_y, to_h) = boxes[step.position], boxes[target]
        right = BOX_X + BOX_W
        edge = _el(svg, "g", class_="send-back-edge")
        _el(edge, "title", _("No quorum: sent back to this earlier step"))
        # Into the lower part of the target, below a consultation badge at its middle.
        start_y, end_y = from_y + from_h / 2, to_y + to_h - 8
        _el(
            edge,
            "path",
            d=f"M{right},{start_y} H{WIDTH - 8} V{end_y} H{right + 2}",
            fill="none",
            stroke="#8e24aa",
            stroke_width="1.3",
            stroke_dasharray="6 3",
            marker_end="url(#arrow-back)",
        )
    _el(
        svg,
        "line",
        class_="flow",
        x1=centre,
        y1=y,
        x2=centre,
        y2=y + GAP - 2,
        stroke=MUTED,
        stroke_width="1.5",
        marker_end="url(#arrow)",
    )
    y += GAP
    _el(svg, "circle", class_="end", cx=centre, cy=y + 10, r=10, fill="#ffffff", stroke=TEXT, stroke_width="3.5")
    y += 28
    legend = _el(svg, "g", class_="legend", font_size="10", fill=MUTED)
    for text in (
        _("↩ dashed loop: return for completion to the unit"),
        _("dashed edge on the right: a vote without quorum sends the case back"),
    ):
        y += 13
        _el(legend, "text", text, x=8, y=y)
    y += 8
    svg.set("viewBox", f"0 0 {WIDTH} {y:g}")
    svg.set("width", str(WIDTH))
    svg.set("height", f"{y:g}")
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
