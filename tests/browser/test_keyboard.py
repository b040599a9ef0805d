"""A domain administrator's main journey with the keyboard alone: Tab to each control (never a
click, never a locator's fill), type, Enter or Space; every control reached shows a visible focus.

The journey: log in, open the domain, create a mailbox, create an alias for it, draw an app
password on one's own page, log out. Screenshots in tests/artifacts/keyboard-*.png.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import AppPassword, Mailbox
from aliases.models import Alias

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


def tab_to(page, name: str, *, tag: str | None = None, limit: int = 120) -> dict:
    """Press Tab until the focused control is called ``name`` (its text, label or aria-label starts
    with it); fail if it is never reached or its focus cannot be seen."""
    seen = []
    page.wait_for_load_state()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        names = (focused["text"], focused["label"], focused["aria"])
        if any(n.startswith(name) for n in names) and (tag is None or focused["tag"] == tag):
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


def type_into(page, name: str, text: str) -> None:
    tab_to(page, name)
    page.keyboard.type(text)


def test_a_domain_admin_works_with_the_keyboard_alone(page, personas, shot):
    page.goto("/login/")
    type_into(page, "Mail address", personas.admin_org.address)
    type_into(page, "Password", personas.password)
    follow(page)
    expect(page.get_by_role("heading", name="Domains")).to_be_visible()

    tab_to(page, "example.org", tag="a")
    follow(page)
    expect(page.get_by_role("link", name="New mailbox")).to_be_visible()
    shot(page, "keyboard-01-domain-page")

    tab_to(page, "New mailbox", tag="a")
    follow(page)
    expect(page.get_by_role("heading", name="New mailbox in example.org")).to_be_visible()
    type_into(page, "Name", "keys")
    type_into(page, "First name", "Kim")
    type_into(page, "Password", PASSWORD)
    tab_to(page, "Create mailbox", tag="button")
    shot(page, "keyboard-02-new-mailbox")
    follow(page)
    expect(page.locator(".flash.success")).to_contain_text("keys@example.org created")
    assert Mailbox.objects.get(address="keys@example.org").check_password(PASSWORD)

    page.goto(f"/domains/{personas.org.pk}/")  # back to the domain (the address bar is the keyboard's too)
    tab_to(page, "New alias", tag="a")
    follow(page)
    type_into(page, "Name", "kim")
    type_into(page, "Destinations", "keys")
    tab_to(page, "Create alias", tag="button")
    follow(page)
    expect(page.locator(".flash.success")).to_be_visible()
    assert Alias.objects.get(address="kim@example.org").destination_list == ["keys@example.org"]

    tab_to(page, "My account", tag="a")
    follow(page)
    tab_to(page, "Manage app passwords", tag="a")
    follow(page)
    type_into(page, "Name", "laptop")
    tab_to(page, "POP3", tag="input")
    page.keyboard.press("Space")  # tick POP3 beside the preset IMAP and SMTP
    tab_to(page, "Create app password", tag="button")
    follow(page)
    expect(page.locator("#app-password")).to_be_visible()
    shot(page, "keyboard-03-app-password")
    assert AppPassword.objects.get(mailbox=personas.admin_org).protocols == ["imap", "pop3", "smtp"]

    tab_to(page, "Log out", tag="button")
    follow(page)
    expect(page.get_by_label("Mail address")).to_be_visible()
