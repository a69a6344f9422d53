"""Every audit action the code can write is declared once (``workflow.actions``) with a label that the
Vietnamese catalogue translates: the timeline, the admin and the notifications never show a raw code."""

import ast
from pathlib import Path

from django.utils import translation

from processes import actions as processes_actions
from processes.services import AUDIT_VERBS
from workflow import actions as workflow_actions
from workflow.actions import declared, label_of
from workflow.models import StepAction

ROOT = Path(__file__).resolve().parent.parent
#: The modules that declare actions, whose constants name them in the code (``action=STEP_APPROVED``).
CONSTANTS = {
    name: value
    for module in (workflow_actions, processes_actions)
    for name, value in vars(module).items()
    if name.isupper() and isinstance(value, str)
}
APPS = ("workflow", "processes", "notifications")
#: The actions written through an expression rather than a literal, spelled out: a new dynamic action
#: fails ``test_every_action_written_is_declared`` until it is added here (and declared).
DYNAMIC_ACTIONS = {
    "f'processes.nomination.{AUDIT_VERBS[action]}'": {f"processes.nomination.{verb}" for verb in AUDIT_VERBS.values()},
    "f'processes.nomination.{verb}'": {"processes.nomination.sent_back", "processes.nomination.step_approved"},
}


def _written_actions() -> tuple[set[str], list[str]]:
    """The ``action=`` of every ``audit_append(...)`` call in the apps: literals, both branches of a
    conditional, and the dynamic ones above; anything else is returned as unexplained source."""
    found, unexplained = set(), []

    def collect(node, where):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Name) and node.id in CONSTANTS:
            found.add(CONSTANTS[node.id])
        elif isinstance(node, ast.IfExp):
            collect(node.body, where)
            collect(node.orelse, where)
        else:
            source = ast.unparse(node)
            if source in DYNAMIC_ACTIONS:
                found.update(DYNAMIC_ACTIONS[source])
            else:
                unexplained.append(f"{where}: {source}")

    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == (
                    "audit_append"
                ):
                    for keyword in node.keywords:
                        if keyword.arg == "action":
                            collect(keyword.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found, unexplained


def test_every_action_written_is_declared():
    written, unexplained = _written_actions()
    assert unexplained == []
    assert len(written) > 20
    assert sorted(written - set(declared())) == []


def _in(language, text) -> str:
    with translation.override(language):
        return str(text)


def test_every_declared_action_and_every_decision_reads_in_vietnamese():
    labels = {code: action.label for code, action in declared().items()}
    labels.update({f"decision {value}": label for value, label in StepAction.choices})
    untranslated = [code for code, label in labels.items() if _in("vi", label) == _in("en", label)]
    assert untranslated == []


def test_an_undeclared_code_is_shown_as_it_is_and_a_declared_one_by_its_label():
    with translation.override("vi"):
        assert label_of("processes.nomination.step_approved") == "Bước duyệt được thông qua"
        assert label_of("tests.unknown") == "tests.unknown"
