"""House rules that a reviewer should not have to remember."""

import ast
from pathlib import Path

from processes.models import Nomination
from processes.permissions import TRANSITION_RULES

ROOT = Path(__file__).resolve().parent.parent
APPS = ("workflow", "processes", "notifications", "config")
TRANSITIONS = set(TRANSITION_RULES)
# Names that other objects use too (files close): flagged only on something named like a nomination.
GENERIC_NAMES = {"close"}


def _sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_every_fsm_transition_has_a_permission_rule():
    declared = {name for name in dir(Nomination) if hasattr(getattr(Nomination, name, None), "_django_fsm")}
    assert declared == TRANSITIONS


def test_only_the_services_call_transition_methods():
    offenders = []
    for path in _sources():
        if path.parent == ROOT / "processes" / "services":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name in TRANSITIONS and (name not in GENERIC_NAMES or "nomination" in ast.unparse(node.func.value)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls .{node.func.attr}()")
    assert offenders == []


def test_nothing_assigns_the_stage_field_directly():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for target in targets
                if isinstance(target, ast.Attribute) and target.attr == "stage"
            ]
    assert offenders == []


#: Where the demo may be imported: its command and its own tests (make run's among them).
DEMO_IMPORTERS = {
    "processes/management/commands/seed_demo.py",
    "tests/processes/test_seed_demo.py",
    "tests/processes/test_seed_demo_on_top.py",
    "tests/e2e/test_make_run.py",
}


def _imports_the_demo(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(alias.name.startswith("processes.demo") for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (
            (node.module or "").startswith("processes.demo")
            or (node.module == "processes" and any(alias.name == "demo" for alias in node.names))
        ):
            return True
    return False


def test_only_seed_demo_and_the_demos_own_tests_import_the_demo():
    """A real installation loads its reference data without the demo, and tests build from the
    factories and that loader: a change to the demo's cases never moves another test."""
    sources = [*_sources(), *(ROOT / "tests").rglob("*.py")]
    importers = {path.relative_to(ROOT).as_posix() for path in sources if _imports_the_demo(path)}
    assert importers - DEMO_IMPORTERS == set()
