"""The layout's promises, read from the source: one job per app and no import cycle between apps.

The apps stand in layers: ``mailadmin`` (settings, permissions, audit, ``lib/``) below all;
``domains``; ``aliases``; ``accounts``; ``vacation``; ``policy``; ``mailserver``, ``imports`` and ``api`` on top. An app
imports only apps below it. A lower app reaches a higher app's models through relations
(``domain.mailboxes``, ``user.grant``) or Django's user-model hook (``get_user_model()``), never by
import. The project's composition root (``mailadmin/settings.py``, ``mailadmin/urls.py``) names
every app, and migrations name other apps' migrations: both are left out.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["mailadmin", "domains", "aliases", "accounts", "vacation", "policy", "mailserver", "imports", "api"]
COMPOSITION_ROOT = {"mailadmin/settings.py", "mailadmin/urls.py"}


def imports_between_apps() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the files that do it, for every import statement."""
    edges: dict[tuple[str, str], list[str]] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or relative in COMPOSITION_ROOT:
                continue
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    target = module.split(".")[0]
                    if target in APPS and target != app:
                        edges.setdefault((app, target), []).append(relative)
    return edges


def test_the_apps_are_the_installed_ones():
    """The layers below name every project app Django loads (a new app must take its place)."""
    project_apps = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]
    assert sorted(project_apps) == sorted(APPS)


def test_no_import_cycle_between_apps():
    edges = imports_between_apps()
    assert edges, "the scan found no imports at all: it reads the wrong folder"
    upward = {
        f"{low} imports {high}: {', '.join(sorted(set(files)))}"
        for (low, high), files in edges.items()
        if APPS.index(high) > APPS.index(low)
    }
    assert not upward, "an app imports one above it (a cycle in the making):\n" + "\n".join(sorted(upward))


def test_mailadmin_holds_settings_permissions_audit_and_lib_only():
    names = {p.name for p in (ROOT / "mailadmin").iterdir() if not p.name.startswith((".", "__pycache__"))}
    jobs = {
        # settings and the project's composition root
        "__init__.py", "apps.py", "settings.py", "urls.py", "wsgi.py", "migrations",
        # who may do what, and the record of what was done
        "permissions.py", "audit.py", "models.py",
        # pure helpers and the panel's shared plumbing (forms, views' helpers, CLI base, bulk engine)
        "lib", "forms.py", "shortcuts.py", "cli.py", "bulk.py", "middleware.py", "throttling.py",
        "converters.py", "context_processors.py", "templatetags", "static", "views.py",
    }  # fmt: skip
    assert names <= jobs, f"mailadmin/ holds more than its jobs: {sorted(names - jobs)}"
