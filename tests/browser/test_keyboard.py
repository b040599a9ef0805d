"""A domain administrator's main journey with the keyboard alone: Tab to each control (never a
click, never a locator's fill), type, Enter or Space; every control reached shows a visible focus.

The journey: log in, open the domain, create a mailbox, create an alias for it, draw an app
password on one's own page, log out; in English, German and French (the language as the switcher
sets it), every name the journey looks for taken from the catalogue of that language. Screenshots
in tests/artifacts/keyboard-*.png (English) and keyboard-<language>-*.png.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import AppPassword, Mailbox
from aliases.models import Alias
from tests.browser.conftest import choose_language, words_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "keyboard only password 9"

FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const labels = e.labels ? Array.from(e.labels).map(l => l.innerText.trim()) : [];
  return {
    tag: e.tagName.toLowerCase(), type: e.type || '', text: (e.innerText || e.value || '').trim(),
    label: labels.join(' '), aria: e.getAttribute('aria-label') || '',
    outline: style.outlineStyle, outlineWidth: style.outlineWidth, shadow: style.boxShadow,
  };
}"""


def tab_to(page, name: str, *, tag: str | None = None, exact: bool = False, limit: int = 120) -> dict:
    """Press Tab until the focused control is called ``name`` (its text, label or aria-label starts
    with it, or is it: ``exact``); fail if it is never reached or its focus cannot be seen."""
    seen = []
    page.wait_for_load_state()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        names = (focused["text"], focused["label"], focused["aria"])
        if any(n == name if exact else n.startswith(name) for n in names) and (tag is None or focused["tag"] == tag):
            visible = (focused["outline"] not in ("none", "") and focused["outlineWidth"] != "0px") or (
                focused["shadow"] not in ("none", "")
            )
            assert visible, f"{name}: the focus cannot be seen ({focused})"
            return focused
        seen.append(names[0][:30] or names[1][:30] or names[2][:30] or focused["tag"])
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def follow(page) -> None:
    """Press Enter on the focused link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page, name: str, text: str, *, exact: bool = False) -> None:
    tab_to(page, name, exact=exact)
    page.keyboard.type(text)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_a_domain_admin_works_with_the_keyboard_alone(page, live_server, personas, shot, language):
    t = words_in(language)
    prefix = "keyboard" if language == "en" else f"keyboard-{language}"
    choose_language(page, live_server, language)
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == language
    type_into(page, t("Mail address"), personas.admin_org.address)
    type_into(page, t("Password"), personas.password)
    follow(page)
    expect(page.get_by_role("heading", name=t("Domains"))).to_be_visible()

    tab_to(page, "example.org", tag="a")
    follow(page)
    expect(page.get_by_role("link", name=t("New mailbox"))).to_be_visible()
    shot(page, f"{prefix}-01-domain-page")

    tab_to(page, t("New mailbox"), tag="a")
    follow(page)
    expect(page.get_by_role("heading", name=t("New mailbox in %(name)s", name="example.org"))).to_be_visible()
    type_into(page, t("Name"), "keys", exact=True)  # ("Nom", not "Nom de famille")
    type_into(page, t("First name"), "Kim")
    type_into(page, t("Password"), PASSWORD)
    tab_to(page, t("Create mailbox"), tag="button")
    shot(page, f"{prefix}-02-new-mailbox")
    follow(page)
    expect(page.locator(".flash.success")).to_contain_text(
        t("Mailbox %(mailbox)s created.", mailbox="keys@example.org")
    )
    assert Mailbox.objects.get(address="keys@example.org").check_password(PASSWORD)

    page.goto(f"/domains/{personas.org.pk}/")  # back to the domain (the address bar is the keyboard's too)
    tab_to(page, t("New alias"), tag="a")
    follow(page)
    type_into(page, t("Name"), "kim", exact=True)
    type_into(page, t("Destinations"), "keys")
    tab_to(page, t("Create alias"), tag="button")
    follow(page)
    expect(page.locator(".flash.success")).to_be_visible()
    assert Alias.objects.get(address="kim@example.org").destination_list == ["keys@example.org"]

    tab_to(page, t("My account"), tag="a")
    follow(page)
    tab_to(page, t("Manage app passwords"), tag="a")
    follow(page)
    type_into(page, t("Name"), "laptop", exact=True)
    tab_to(page, "POP3", tag="input")
    page.keyboard.press("Space")  # tick POP3 beside the preset IMAP and SMTP
    tab_to(page, t("Create app password"), tag="button")
    follow(page)
    expect(page.locator("#app-password")).to_be_visible()
    shot(page, f"{prefix}-03-app-password")
    assert AppPassword.objects.get(mailbox=personas.admin_org).protocols == ["imap", "pop3", "smtp"]

    tab_to(page, t("Log out"), tag="button")
    follow(page)
    expect(page.get_by_label(t("Mail address"))).to_be_visible()
