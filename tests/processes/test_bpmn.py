"""A template version as BPMN 2.0 XML, for other tools: from the case for whoever may see it, and from
the admin; it parses with the standard library and holds the expected elements."""

import re
import xml.etree.ElementTree as ET

from django.urls import reverse

from tests.factories import make_nomination, submitted
from workflow.bpmn import template_bpmn
from workflow.models import ProcessTemplate, StepKind, TemplateVersion

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NCNAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


def _process(xml: bytes):
    root = ET.fromstring(xml)
    assert root.tag == f"{BPMN}definitions"
    [process] = root.findall(f"{BPMN}process")
    return root, process


def test_the_case_offers_its_version_as_bpmn(client, org):
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = submitted(org)
    client.force_login(org.hospital_secretary)
    response = client.get(reverse("processes:nomination-route-bpmn", args=[nomination.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["Content-Disposition"].startswith('attachment; filename="city_regular-v')
    root, process = _process(response.content)
    tasks = process.findall(f"{BPMN}userTask")
    assert [task.get("name") for task in tasks][:2] == [
        "Thủ trưởng đơn vị xác nhận",
        "Thủ trưởng sở / Chủ tịch UBND xã, phường trình",
    ]
    assert len(tasks) == 7  # every step of the version, conditional ones included
    assert len(process.findall(f"{BPMN}startEvent")) == 1
    assert len(process.findall(f"{BPMN}endEvent")) == 1
    # The posting and the council's vote apply only to some forms: a gateway before each, with the
    # condition on one flow and the other its default (skipping the step).
    gateways = process.findall(f"{BPMN}exclusiveGateway")
    assert len(gateways) == 2
    flows = {flow.get("id"): flow for flow in process.findall(f"{BPMN}sequenceFlow")}
    ids = {element.get("id") for element in process}
    for gateway in gateways:
        outgoing = [flow for flow in flows.values() if flow.get("sourceRef") == gateway.get("id")]
        assert len(outgoing) == 2
        assert gateway.get("default") in {flow.get("id") for flow in outgoing}
        conditional = [flow for flow in outgoing if flow.find(f"{BPMN}conditionExpression") is not None]
        assert len(conditional) == 1
    # Every flow joins two elements of the process; every node is reached and left.
    for flow in flows.values():
        assert flow.get("sourceRef") in ids
        assert flow.get("targetRef") in ids
    for node in [*tasks, *gateways]:
        assert any(flow.get("targetRef") == node.get("id") for flow in flows.values())
        assert any(flow.get("sourceRef") == node.get("id") for flow in flows.values())
    # A diagram, for tools that draw it: one shape per node, one edge per flow.
    shapes = root.findall(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")
    edges = root.findall(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge")
    assert len(shapes) == len(tasks) + len(gateways) + 2
    assert len(edges) == len(flows)


def test_someone_who_may_not_see_the_case_gets_404(client, org):
    nomination = submitted(org)
    client.force_login(org.outsider)
    assert client.get(reverse("processes:nomination-route-bpmn", args=[nomination.pk])).status_code == 404
    client.force_login(org.hospital_secretary)
    draft = make_nomination(org)  # not submitted: no route yet
    assert client.get(reverse("processes:nomination-route-bpmn", args=[draft.pk])).status_code == 404


def test_the_admin_downloads_any_version_and_others_cannot(client, org):
    version = TemplateVersion.objects.filter(template__code="unit_level").first()
    url = reverse("admin:workflow_templateversion_bpmn", args=[version.pk])
    client.force_login(org.admin)
    page = client.get(reverse("admin:workflow_templateversion_change", args=[version.pk])).text
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    _root, process = _process(response.content)
    assert len(process.findall(f"{BPMN}userTask")) == version.steps.count()
    assert client.get(reverse("admin:workflow_templateversion_bpmn", args=["99999999"])).status_code == 404
    client.force_login(org.hospital_secretary)  # not staff: the admin sends them to its log-in
    assert client.get(url).status_code == 302


def test_ids_are_safe_and_names_escaped(org):

    template = ProcessTemplate.objects.create(code="x-1", name="<b>&</b>")
    version = TemplateVersion.objects.create(template=template, number=1)
    for position, code in ((1, "a"), (2, "a.b"), (3, "a-b")):
        version.steps.create(
            position=position,
            code=code,
            name=f'<script>"{code}"</script>',
            kind=StepKind.DECISION,
            approver_rule="subject_unit_head",
            actions=["approve"],
            deadline_working_days=3,
            condition="council_vote" if position == 2 else "",
        )
    xml = template_bpmn(version)
    assert b"<script>" not in xml
    root, process = _process(xml)
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    assert all(re.match(NCNAME, element_id) for element_id in ids)
    assert next(task.get("name") for task in process.findall(f"{BPMN}userTask")) == '<script>"a"</script>'
