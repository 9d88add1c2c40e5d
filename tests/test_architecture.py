"""The layers of dashboard/ (.importlinter, docs/architecture.md) are kept by import-linter:
`make test` runs it on the tree; here it is shown to catch each kind of break, on a copy."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the package's Python files and the contracts, to break on purpose."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "dashboard", copy / "dashboard",
                    ignore=shutil.ignore_patterns("static", "templates", "__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy)
    return copy


def lint(tree, edits: dict[str, str]) -> subprocess.CompletedProcess:
    """lint-imports on the copy with lines appended to some of its modules, then put back."""
    saved = {name: (tree / name).read_text() for name in edits}
    try:
        for name, line in edits.items():
            (tree / name).write_text(saved[name] + "\n" + line + "\n")
        return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True,
                              text=True, timeout=120)
    finally:
        for name, text in saved.items():
            (tree / name).write_text(text)


def test_the_tree_keeps_every_contract(tree):
    result = lint(tree, {})
    assert result.returncode == 0, result.stdout
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("edits", "broken"), [
    ({"dashboard/tasks.py": "from .campaigns import jobs"}, "The queue knows no feature"),
    ({"dashboard/wecom/crypto.py": "import flask"}, "neither Flask nor the app"),
    ({"dashboard/wecom/events.py": "from ..models import CardEvent"}, "neither Flask nor the app"),
    ({"dashboard/models/event.py": "from ..reports import queries"}, "Commands above features"),
    ({"dashboard/callback/codes.py": "from ..reports import queries"}, "No import circle"),
    ({"dashboard/campaigns/delivery.py": "from . import views"}, "No import circle"),
], ids=["queue-imports-a-feature", "wecom-imports-flask", "wecom-imports-the-app",
        "model-imports-a-feature", "feature-circle", "module-circle-in-a-package"])
def test_each_kind_of_break_is_caught(tree, edits, broken):
    result = lint(tree, edits)
    assert result.returncode == 1, result.stdout
    assert f"{broken}" in result.stdout.split("Broken contracts")[-1].replace("\n", " ")


def test_a_new_top_level_module_must_be_given_a_layer(tree):
    (tree / "dashboard" / "stray.py").write_text("")
    try:
        result = lint(tree, {})
    finally:
        (tree / "dashboard" / "stray.py").unlink()
    assert result.returncode == 1 and "dashboard.stray" in result.stdout
