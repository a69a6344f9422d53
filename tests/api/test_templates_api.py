"""Process templates through the API: everyone signed in reads the published versions; administrators
make a draft, edit its steps (checked as in the admin) and publish it; anyone else gets 403."""

from __future__ import annotations

from tests.api import decision_cases as cases
from workflow.models import TemplateVersion


def test_an_administrator_drafts_edits_and_publishes_a_version(world):
    admin = world.client("admin")
    template = cases.published_template(world)
    drafted = admin.post(f"/api/v1/templates/{template.pk}/draft/")
    assert drafted.status_code == 201, drafted.content
    draft = drafted.json()
    assert draft["status"] == "draft"
    assert [step["code"] for step in draft["steps"]] == [
        step.code for step in cases.published_version(world).steps.order_by("position")
    ]
    steps = [{key: value for key, value in step.items() if key != "id"} for step in draft["steps"]]
    steps[0]["name"] = "Thủ trưởng đơn vị xác nhận (mới)"
    edited = admin.put(f"/api/v1/template-versions/{draft['id']}/steps/", {"steps": steps}, format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["steps"][0]["name"] == "Thủ trưởng đơn vị xác nhận (mới)"
    published = admin.post(f"/api/v1/template-versions/{draft['id']}/publish/", {"effective_from": "2099-01-01"})
    assert published.status_code == 200, published.content
    assert (published.json()["status"], published.json()["effective_from"]) == ("published", "2099-01-01")
    again = admin.post(f"/api/v1/template-versions/{draft['id']}/publish/", {"effective_from": "2099-01-01"})
    assert again.status_code == 400
    frozen = admin.put(f"/api/v1/template-versions/{draft['id']}/steps/", {"steps": steps}, format="json")
    assert frozen.status_code == 409
    assert TemplateVersion.objects.get(pk=draft["id"]).steps.order_by("position").first().name.endswith("(mới)")


def test_a_refused_step_leaves_the_draft_as_it_was(world):
    draft = cases.draft_version(world)
    body = cases.draft_steps_body(world)
    body["steps"][1]["actions"] = ["vote", "approve"]
    response = world.client("admin").put(f"/api/v1/template-versions/{draft.pk}/steps/", body, format="json")
    assert response.status_code == 400
    assert "1" in response.json()["errors"]["steps"]
    assert draft.steps.count() == len(body["steps"])
    assert draft.steps.get(position=body["steps"][1]["position"]).actions != ["vote", "approve"]


def test_who_does_not_edit_templates_reads_published_versions_only_and_writes_nothing(world):
    draft = cases.draft_version(world)
    template = cases.published_template(world)
    for actor in ("head_a", "board", "chairman"):
        client = world.client(actor)
        assert client.post(f"/api/v1/templates/{template.pk}/draft/").status_code == 403
        publish = client.post(f"/api/v1/template-versions/{draft.pk}/publish/", {"effective_from": "2099-01-01"})
        assert publish.status_code == 403
        assert client.get(f"/api/v1/template-versions/{draft.pk}/").status_code == 404
        listed = client.get(f"/api/v1/templates/{template.pk}/").json()
        assert {version["status"] for version in listed["versions"]} == {"published"}
    assert world.client("admin").get(f"/api/v1/template-versions/{draft.pk}/").status_code == 200
    assert TemplateVersion.objects.get(pk=draft.pk).status == "draft"
