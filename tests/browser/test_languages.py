"""The panel in English, German and French in a real Chromium: the browser's language (its
Accept-Language) chooses the pages' language, and the switcher at the foot of every page changes
it. Screenshots of each page in each language: tests/artifacts/languages/<language>-<page>.png.

Every page's own words are translated (tests/test_i18n_templates.py); the end user's pages and a
domain administrator's main pages are opened here in each language."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOG_IN = {"en": "Log in", "de": "Anmelden", "fr": "Connexion"}
# page: (address, what to read there, its text in each language)
PAGES = {
    "my-account": (
        "/me/",
        "#h-vacation",
        {"en": "Vacation reply", "de": "Abwesenheitsnotiz", "fr": "Réponse d’absence"},
    ),
    "password": (
        "/me/password/",
        "h1",
        {"en": "Change your password", "de": "Ihr Passwort ändern", "fr": "Changer votre mot de passe"},
    ),
    "vacation": ("/me/vacation/", "h1", {"en": "Vacation reply", "de": "Abwesenheitsnotiz", "fr": "Réponse d’absence"}),
    "two-factor": (
        "/me/two-factor/",
        "h1",
        {"en": "Two-factor login", "de": "Zwei-Faktor-Anmeldung", "fr": "Connexion à deux facteurs"},
    ),
    "app-passwords": (
        "/me/app-passwords/",
        "h1",
        {"en": "App passwords", "de": "App-Passwörter", "fr": "Mots de passe d’application"},
    ),
    "api-tokens": ("/me/api-tokens/", "h1", {"en": "API tokens", "de": "API-Tokens", "fr": "Jetons d’API"}),
    "not-found": ("/no/such/page/", "h1", {"en": "Not found", "de": "Nicht gefunden", "fr": "Introuvable"}),
}


def screenshot(page, name):
    folder = ARTIFACTS / "languages"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_browsers_language_gives_the_panel_in_it(browser, live_server, personas, language):
    context = browser.new_context(base_url=live_server.url, locale=language, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto("/login/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text(LOG_IN[language])
        screenshot(page, f"{language}-login")
        page.locator("input[name=username]").fill(personas.user.address)
        page.locator("input[name=password]").fill(personas.password)
        page.get_by_role("button", name=LOG_IN[language]).click()
        page.wait_for_url("**/me/")
        for name, (address, where, text) in PAGES.items():
            page.goto(address)
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator(where).first).to_have_text(text[language])
            screenshot(page, f"{language}-{name}")
    finally:
        context.close()


def test_the_switcher_changes_the_language_of_every_page(browser, live_server, personas):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto("/login/")
        page.get_by_label("Language").select_option("fr")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("h1")).to_have_text(LOG_IN["fr"])  # back on the same page, in French
        page.locator("input[name=username]").fill(personas.user.address)
        page.locator("input[name=password]").fill(personas.password)
        page.get_by_role("button", name=LOG_IN["fr"]).click()
        page.wait_for_url("**/me/")
        expect(page.locator("#h-vacation")).to_have_text(PAGES["my-account"][2]["fr"])
        page.get_by_label("Langue").select_option("de")
        page.get_by_role("button", name="Changer").click()
        page.wait_for_url("**/me/")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("#h-vacation")).to_have_text(PAGES["my-account"][2]["de"])
        screenshot(page, "switched-to-de")
    finally:
        context.close()


ADMIN_PAGES = {
    # page: (what to read there, its text in German and French)
    "domains": ("h1", {"de": "Domains", "fr": "Domaines"}),
    "domain": ("#h-mailboxes", {"de": "Postfächer", "fr": "Boîtes"}),
    "new-mailbox": ("h1", {"de": "Neues Postfach in example.org", "fr": "Nouvelle boîte dans example.org"}),
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_domain_administrator_works_in_the_browsers_language(browser, live_server, personas, language):
    context = browser.new_context(base_url=live_server.url, locale=language, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("input[name=username]").fill(personas.admin_org.address)
        page.locator("input[name=password]").fill(personas.password)
        page.get_by_role("button", name=LOG_IN[language]).click()
        page.wait_for_load_state()
        addresses = {
            "domains": reverse("domains:list"),
            "domain": reverse("domains:detail", args=[personas.org.pk]),
            "new-mailbox": reverse("accounts:create", args=[personas.org.pk]),
        }
        for name, (where, text) in ADMIN_PAGES.items():
            page.goto(addresses[name])
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator(where).first).to_contain_text(text[language])
            screenshot(page, f"{language}-admin-{name}")
    finally:
        context.close()
