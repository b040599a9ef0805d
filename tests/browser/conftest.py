"""A real headless Chromium (Debian's) driven by Playwright against pytest-django's live server.

Browser tests run on the SQLite pass of scripts/test only: they test the panel,
not the database, and the other passes would only repeat them. They are
deselected there (not skipped: CI turns skips into failures).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "sqlite":
        return
    here = Path(__file__).parent
    deselected = [item for item in items if here in Path(str(item.path)).parents]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session.

    Playwright's sync API keeps an event loop on this thread, which makes
    Django refuse ORM calls from the test body; the tests only read and set up
    data while the browser waits, so that check is lifted while it runs.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before destructive actions
    yield page
    context.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot to tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


def log_in(page, address, password, t=str):
    """Log in through the form (``t``: the page's words in its language, as ``words_in`` gives)."""
    page.goto("/login/")
    page.get_by_label(t("Mail address")).fill(address)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Log in")).click()
    page.wait_for_load_state()


def words_in(language: str):
    """t(text, **values) / t(singular, plural=..., n=..., **values): what the panel says for an English
    message in ``language``, from its catalogue, so that a browser test finds the same controls and
    messages in every language."""
    from django.utils import translation

    def t(text: str, plural: str | None = None, **values) -> str:
        with translation.override(language):
            said = translation.ngettext(text, plural, values["n"]) if plural else translation.gettext(text)
        return said % values if values else said

    return t


def choose_language(page, live_server, language: str) -> None:
    """The language as the switcher leaves it: its cookie (English: none, the browser's default)."""
    from django.conf import settings

    page.context.clear_cookies(name=settings.LANGUAGE_COOKIE_NAME)
    if language != "en":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
