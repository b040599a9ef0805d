"""Every page of every role, checked by axe-core in a real Chromium: no serious or critical violation.

The pages are those of the permission matrix (tests/mailadmin/test_permissions_matrix.py) that
answer 200 to a GET for the role, in the same world of personas and objects, plus the login page:
a new page is checked as soon as the matrix knows it. axe-core (Deque's engine, bundled by
axe-playwright-python) runs the WCAG 2.1 A and AA rules and the best practices; every result is
written to tests/artifacts/axe-<role>-<language>-<light|dark>.json, violations of every impact included.
Every page is checked in English, German and French (light; English dark too: panel.css has a
palette of its own there), the language chosen as the switcher chooses it (its cookie), and a
screenshot of each page in each language is saved to tests/artifacts/languages/<language>/<role>/.
"""

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import ARTIFACTS, choose_language, log_in
from tests.mailadmin.test_permissions_matrix import MATRIX, PERSONAS, build_world, url_for

pytestmark = pytest.mark.browser

ROLES = {"user": "end user", "admin_org": "domain admin", "superuser": "superuser"}
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
BLOCKING = ("serious", "critical")


def pages_of(persona: str, objects) -> list[str]:
    index = PERSONAS.index(persona) - 1  # the matrix's answers leave out the anonymous visitor
    urls = []
    for name, key, get_answers, _post, _data in MATRIX:
        if get_answers[index] == 200 and url_for(name, key, objects) not in urls:
            urls.append(url_for(name, key, objects))
    return urls


def check(page, url: str, shots=None) -> dict:
    kind = page.request.get(url).headers.get("content-type") or ""  # (the context's cookies)
    if "text/html" not in kind:  # a download: the CSV export, the Apple profile
        return {"url": url, "skipped": kind}
    response = page.goto(url)
    assert response.status == 200, url
    if shots is not None:  # (a page in its language, as a reader of the artefacts sees it)
        shots.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
        page.screenshot(path=str(shots / f"{len(list(shots.iterdir())):03}-{name}.png"), full_page=True)
    results = Axe().run(page, options=OPTIONS).response
    return {
        "url": url,
        "violations": [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]],
            }
            for v in results["violations"]
        ],
        "passes": len(results.get("passes", [])),
    }


@pytest.mark.parametrize(("language", "scheme"), [("en", "light"), ("en", "dark"), ("de", "light"), ("fr", "light")])
@pytest.mark.parametrize("persona", list(ROLES))
def test_every_page_of_the_role_has_no_serious_accessibility_violation(page, live_server, persona, language, scheme):
    page.emulate_media(color_scheme=scheme)
    shots = ARTIFACTS / "languages" / language / persona if scheme == "light" else None
    if shots is not None and shots.exists():
        for old in shots.iterdir():
            old.unlink()
    p, objects, people = build_world()
    choose_language(page, live_server, language)
    report = []
    if persona == "user":  # (the login page once, in each language)
        report.append(check(page, "/login/", shots))
        assert page.locator("html").get_attribute("lang") == language
    choose_language(page, live_server, "en")  # (log_in reads the English labels)
    log_in(page, people[persona].address, p.password)
    if page.url.endswith("/login/verify/"):  # two-factor login is on for them: its page, then a code
        report.append(check(page, "/login/verify/"))
        page.get_by_label("Code").fill(p.recovery_codes[people[persona].address][0])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    choose_language(page, live_server, language)
    urls = pages_of(persona, objects)
    assert len(urls) >= 8, urls  # every role has its own pages at least (me, password, vacation ...)
    report += [check(page, url, shots) for url in urls]
    assert page.locator("html").get_attribute("lang") == language
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{persona}-{language}-{scheme}.json").write_text(json.dumps(report, indent=2))
    blocking = [
        f"{entry['url']}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes'][:3]}"
        for entry in report
        for v in entry.get("violations", [])
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{ROLES[persona]} ({language}, {scheme}):\n" + "\n".join(blocking)


def test_axe_reports_a_page_that_breaks_the_rules(page, live_server):
    """The check can fail: an image without text and an unlabelled field are serious/critical for axe."""
    page.goto("/login/")
    page.set_content('<html lang="en"><body><main><img src="x.png"><input type="text"></main></body></html>')
    found = {v["id"]: v["impact"] for v in Axe().run(page, options=OPTIONS).response["violations"]}
    assert found.get("image-alt") in BLOCKING and found.get("label") in BLOCKING, found
