"""Issue 7 points 1 and 7: sandbox mode by default, and nothing of the sandbox in production."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from tests import databases
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dashboard"
# What the sandbox may use of the product: the protocol library, the models and extensions, the
# access-rule decorators and the task queue; never the features it stands in for WeCom against (campaigns, callback).
SANDBOX_MAY_IMPORT = ("dashboard.wecom", "dashboard.models", "dashboard.extensions",
                      "dashboard.auth", "dashboard.sandbox", "dashboard.tasks")

PRODUCTION = r"""
import json, re, sys
from dashboard import create_app
from dashboard.auth import service
from dashboard.extensions import db
app = create_app()
with app.app_context():
    db.create_all()
    service.create_user("admin", "admin", "long-password-1", actor="test")
    db.session.commit()
client = app.test_client()
paths = ["/sandbox/", "/sandbox/control", "/sandbox/cgi-bin/gettoken", "/sandbox/inbox/lina/feed"]
statuses = [client.get(p).status_code for p in paths]
statuses.append(client.post("/sandbox/cgi-bin/message/send", data=b"{}").status_code)
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
client.post("/login", data={"username": "admin", "password": "long-password-1", "csrf_token": token})
home = client.get("/").get_data(as_text=True)
print(json.dumps({
    "statuses": statuses, "home": client.get("/").status_code,
    "modules": sorted(m for m in sys.modules if m.startswith("dashboard.sandbox")),
    "rules": [r.rule for r in app.url_map.iter_rules() if "sandbox" in r.rule],
    "extension": "sandbox" in app.extensions, "nav_link": "/sandbox/" in home,
    "banner": "sandbox-banner" in home, "api_base": app.config["WECOM_API_BASE"]}))
"""


def test_with_a_real_wecom_app_the_sandbox_is_not_there_at_all(tmp_path):
    env = {**os.environ, "WECOM_CORP_ID": "ww0123456789abcdef", "WECOM_AGENT_ID": "1000002",
           "WECOM_SECRET": "real-secret", "WECOM_TOKEN": "real-token", "WECOM_AES_KEY": "a" * 43,
           "SECRET_KEY": "production-secret-" * 2, "DATABASE_URL": databases.database_url(tmp_path),
           "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"}
    env.pop("WECOM_API_BASE", None)
    done = subprocess.run([sys.executable, "-c", PRODUCTION], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["statuses"] == [404] * 5 and seen["home"] == 200
    assert seen["modules"] == [] and seen["rules"] == [] and not seen["extension"]
    assert not seen["nav_link"] and not seen["banner"]
    assert seen["api_base"] == "https://qyapi.weixin.qq.com/cgi-bin"


def _imports(path: Path):
    """(module imported, node) for every import in a file, relative imports resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node, parents) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[:len(parts) - node.level + 1], *([base] if base else [])])
            yield base, node, parents
            yield from ((f"{base}.{alias.name}", node, parents) for alias in node.names)


def _guarded_by_sandbox_flag(node, parents) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "SANDBOX" in ast.unparse(node.test):
            return True
    return False


def test_nothing_in_the_product_imports_the_sandbox_but_the_guarded_factory_line():
    found = []
    for path in PACKAGE.rglob("*.py"):
        if (PACKAGE / "sandbox") in path.parents:
            continue
        for module, node, parents in _imports(path):
            if module == "dashboard.sandbox" or module.startswith("dashboard.sandbox."):
                found.append((path.relative_to(ROOT).as_posix(), _guarded_by_sandbox_flag(node, parents)))
    assert found == [("dashboard/__init__.py", True)]


def test_the_sandbox_uses_only_the_products_public_pieces():
    used = set()
    for path in (PACKAGE / "sandbox").rglob("*.py"):
        used |= {module for module, _, _ in _imports(path) if module.startswith("dashboard")}
    assert used and all(m.startswith(SANDBOX_MAY_IMPORT) for m in used), sorted(used)


def test_without_a_corp_id_the_app_is_its_own_wecom(tmp_path):
    app = make_app(tmp_path, DASHBOARD_URL="http://127.0.0.1:5000")
    kept = json.loads((tmp_path / "instance" / "sandbox.json").read_text())
    assert {k: app.config[k] for k in kept} == kept and len(kept) == 5
    assert app.config["WECOM_API_BASE"] == "http://127.0.0.1:5000/sandbox/cgi-bin"
    assert "sandbox_callback" in str(app.extensions["sandbox"]["deliver_callback"].name)
