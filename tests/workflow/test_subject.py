"""The seam between the engine and the domain: one declared Protocol (``workflow.subject.Subject``), which
the domain's adapter satisfies method by method; the engine asks nothing else of it, never through a
``getattr`` fallback, and names no role of the award domain."""

import ast
import inspect
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from workflow.subject import Subject, subject_adapter

ROOT = Path(__file__).resolve().parent.parent.parent
WORKFLOW = ROOT / "workflow"
PROTOCOL_METHODS = {
    name for name, member in vars(Subject).items() if inspect.isfunction(member) and not name.startswith("_")
}


def _workflow_sources():
    for path in WORKFLOW.rglob("*.py"):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_the_domains_adapter_satisfies_the_protocol_method_by_method():
    adapter = import_string(settings.WORKFLOW_SUBJECT)()
    assert isinstance(adapter, Subject)
    assert len(PROTOCOL_METHODS) >= 15
    for name in PROTOCOL_METHODS:
        declared = inspect.signature(getattr(Subject, name))
        implemented = inspect.signature(getattr(type(adapter), name))
        assert [(parameter.name, parameter.kind) for parameter in declared.parameters.values()] == [
            (parameter.name, parameter.kind) for parameter in implemented.parameters.values()
        ], name


def test_the_engine_asks_the_adapter_only_what_the_protocol_declares_and_never_through_getattr():
    asked, fallbacks = set(), []

    def is_adapter(node) -> bool:
        return isinstance(node, ast.Call) and getattr(node.func, "id", "") == "subject_adapter"

    for path, tree in _workflow_sources():
        # Names bound to the adapter (``adapter = subject_adapter()``), and parameters named so.
        bound = {"adapter", "subjects"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and is_adapter(node.value):
                bound |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            on_adapter = isinstance(node, ast.Attribute) and (
                is_adapter(node.value) or (isinstance(node.value, ast.Name) and node.value.id in bound)
            )
            if on_adapter:
                asked.add(node.attr)
            uses_getattr = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "getattr" and node.args
            if uses_getattr and "adapter" in ast.unparse(node.args[0]):
                fallbacks.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert fallbacks == []
    assert asked
    assert asked <= PROTOCOL_METHODS, asked - PROTOCOL_METHODS


def test_the_engine_names_no_role_of_the_award_domain():
    roles = ("chairman", "Emulation", "Board", "nominee", "Nomination")
    found = []
    for path, _tree in _workflow_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{number}: {role}" for role in roles if role in line]
    assert found == []


def test_the_adapter_is_one_instance_per_process():
    assert subject_adapter() is subject_adapter()
