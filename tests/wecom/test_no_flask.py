"""dashboard.wecom is a plain library: importing any of its modules must not pull in Flask."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# dashboard/__init__.py builds the Flask app, so stand in an empty package for it and import
# every dashboard/wecom module, subpackages included, in a fresh interpreter.
SCRIPT = """
import importlib, pkgutil, sys, types
package = types.ModuleType("dashboard")
package.__path__ = [sys.argv[1] + "/dashboard"]
sys.modules["dashboard"] = package
import dashboard.wecom
names = [m.name for m in pkgutil.walk_packages(dashboard.wecom.__path__, "dashboard.wecom.")]
for name in names:
    importlib.import_module(name)
for required in ("crypto", "errors", "events", "replies", "xmlsafe", "transport", "api.messages"):
    assert "dashboard.wecom." + required in names, required
leaked = sorted(m for m in sys.modules if m == "flask" or m.startswith(("flask.", "flask_", "werkzeug")))
assert not leaked, leaked
app = sorted(m for m in sys.modules if m.startswith("dashboard.") and m.split(".")[1] != "wecom")
assert not app, app
print(len(names))
"""


def test_importing_dashboard_wecom_does_not_import_flask():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 5
