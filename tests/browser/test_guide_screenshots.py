"""The pictures of the administrator's guide (docs/admin-guide.md): each role's main tasks in a real
Chromium, one session per role, every step checked as its user would check it and saved as
docs/screenshots/<role>-<task>.png.

The pictures are of a fixed 1280x800 viewport in the light scheme, with no control focused. Generated
passwords, recovery codes and the authenticator's secret and QR code are masked: a reader must not
take one for an example to use, nor scan a test account into their authenticator app.
"""

import re
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts import services as accounts
from accounts import twofactor
from accounts.models import AppPassword, Mailbox
from aliases.models import Alias
from domains import services as domains
from domains.models import AdminGrant, Domain
from tests import factories
from tests.browser.conftest import log_in
from tests.browser.test_two_factor import app_code
from vacation.models import Vacation

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
GUIDE = ROOT / "docs" / "admin-guide.md"
VIEWPORT = {"width": 1280, "height": 800}
SECRETS = "code.secret, img.qr"  # generated passwords, recovery codes, the authenticator's secret
NEW_PASSWORD = "guide new password 4"


@pytest.fixture
def guide_page(page):
    page.set_viewport_size(VIEWPORT)
    page.emulate_media(color_scheme="light", reduced_motion="reduce")
    SCREENSHOTS.mkdir(exist_ok=True)
    return page


def snap(page, name: str, show=None) -> None:
    """docs/screenshots/<name>.png: the viewport, from the top or with ``show`` (a locator) in view."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    if show is None:
        page.evaluate("window.scrollTo(0, 0)")
    else:
        show.scroll_into_view_if_needed()
    page.screenshot(
        path=SCREENSHOTS / f"{name}.png",
        mask=[page.locator(SECRETS)],
        mask_color="#c8ccd2",
        animations="disabled",
        caret="hide",
    )


def flash(page):
    return page.locator(".flash.success")


def enrolled(mailbox) -> str:
    """Two-factor login set up for ``mailbox`` (as the two-factor page does); its secret as the page shows it."""
    device = twofactor.start_enrolment(mailbox=mailbox)
    totp = TOTP(device.bin_key, step=30, t0=0, digits=6)
    totp.time = time.time()
    twofactor.enrol(acting_user=mailbox, mailbox=mailbox, code=f"{totp.token():06d}", origin="test")
    return twofactor.secret_text(twofactor.device_of(mailbox))


@pytest.mark.django_db(transaction=True)
def test_superuser_tasks(guide_page, personas):
    page = guide_page
    secret = enrolled(personas.superuser)  # the login's second step is in the guide too

    page.goto("/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Mail address").fill(personas.superuser.address)
    page.get_by_label("Password").fill(personas.password)
    snap(page, "superuser-login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second step of the login")).to_be_visible()
    page.get_by_label("Code").fill(app_code(secret, ahead=1))
    snap(page, "superuser-login-second-step")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Domains")).to_be_visible()
    expect(page.get_by_role("link", name="example.org")).to_be_visible()
    expect(page.get_by_role("link", name="example.net")).to_be_visible()
    snap(page, "superuser-domains")

    page.get_by_role("link", name="New domain").click()
    expect(page.get_by_role("heading", name="New domain")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("shop.example")
    page.get_by_label("Most mailboxes").fill("100")
    page.get_by_label("Most aliases").fill("200")
    page.get_by_label("Largest mailbox quota").fill("4G")
    page.get_by_label("Quota of new mailboxes").fill("1G")
    snap(page, "superuser-new-domain", show=page.get_by_role("button", name="Save"))
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("Domain shop.example created.")
    expect(page.get_by_role("heading", name="shop.example")).to_be_visible()
    shop = Domain.objects.get(name="shop.example")
    assert (shop.max_mailboxes, shop.default_quota_bytes, shop.max_quota_bytes) == (100, 1024**3, 4 * 1024**3)

    # the future administrator's mailbox, made directly: creating one is in the domain administrator's part
    factories.mailbox("boss@shop.example", first_name="Barbara", last_name="Boss")
    page.get_by_label("Alias domain").fill("shop.example.net")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(flash(page)).to_have_text("Domain alias added.")
    expect(page.get_by_role("region", name="Domain aliases")).to_contain_text("shop.example.net")
    expect(page.locator("table.mailboxes")).to_contain_text("Barbara Boss")
    snap(page, "superuser-domain")
    assert shop.domain_aliases.get().name == "shop.example.net"

    page.get_by_role("link", name="Change settings").click()
    expect(page.get_by_role("heading", name="Settings of shop.example")).to_be_visible()
    page.get_by_label("Description").fill("The online shop")
    page.get_by_label("Forwarding outside").uncheck()
    snap(page, "superuser-domain-settings")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(flash(page)).to_have_text("Settings of shop.example saved.")
    expect(page.get_by_role("region", name="Settings")).to_contain_text("The online shop")
    assert not Domain.objects.get(pk=shop.pk).forward_outside

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admins").click()
    expect(page.get_by_role("heading", name="Domain administrators")).to_be_visible()
    page.get_by_role("link", name="New grant").click()
    page.get_by_label("Administrator's mailbox").fill("boss@shop.example")
    page.get_by_label("shop.example", exact=True).check()
    page.get_by_label("Quota for all its domains").fill("20G")
    page.get_by_label("Mailboxes for all its domains").fill("50")
    snap(page, "superuser-new-grant")
    page.get_by_role("button", name="Save grant").click()
    expect(flash(page)).to_have_text("boss@shop.example now administers 1 domain.")
    expect(page.get_by_role("row", name=re.compile("boss@shop.example"))).to_contain_text("shop.example")
    snap(page, "superuser-grants")
    grant = AdminGrant.objects.get(admin__address="boss@shop.example")
    assert [d.name for d in grant.domains.all()] == ["shop.example"] and grant.max_mailboxes == 50

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    newest = page.locator("table.audit tbody tr").first
    expect(newest).to_contain_text("grant.set")
    expect(newest).to_contain_text("root@example.org")
    by_root = page.locator("table.audit tbody tr").filter(has_text="root@example.org").locator("code")
    expect(by_root.first).to_have_text("grant.set")
    assert {"domain.create", "domain_alias.create", "domain.update"} <= set(by_root.all_inner_texts())
    snap(page, "superuser-audit")


@pytest.mark.django_db(transaction=True)
def test_domain_administrator_tasks(guide_page, personas):
    page = guide_page
    domains.domain_alias_create(acting_user=None, name="example.com", target=personas.org, origin="test")

    log_in(page, personas.admin_org.address, personas.password)
    expect(page.get_by_role("heading", name="Domains")).to_be_visible()
    expect(page.get_by_role("link", name="example.org")).to_be_visible()
    expect(page.get_by_role("link", name="example.net")).to_have_count(0)
    expect(page.get_by_role("link", name="New domain")).to_have_count(0)
    expect(page.get_by_role("region", name="Your grant")).to_be_visible()
    snap(page, "domain-admin-domains")

    page.get_by_role("link", name="example.org").click()
    expect(page.get_by_role("heading", name=re.compile("example.org"))).to_be_visible()
    domain_aliases = page.get_by_role("region", name="Domain aliases")
    expect(domain_aliases).to_contain_text("example.com")
    expect(domain_aliases.get_by_role("button")).to_have_count(0)  # superusers add and remove them
    expect(page.get_by_role("link", name="Change settings")).to_have_count(0)
    snap(page, "domain-admin-domain")

    page.get_by_role("link", name="New mailbox").click()
    expect(page.get_by_role("heading", name="New mailbox in example.org")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("anna")
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Surname").fill("Adams")
    page.get_by_label("Quota", exact=True).fill("500M")
    page.locator("#id_password").fill(NEW_PASSWORD)
    snap(page, "domain-admin-new-mailbox")
    page.get_by_role("button", name="Create mailbox").click()
    expect(flash(page)).to_have_text("Mailbox anna@example.org created.")
    expect(page.get_by_role("heading", name="anna@example.org")).to_be_visible()
    assert Mailbox.objects.get(address="anna@example.org").quota_bytes == 500 * 1024**2

    page.get_by_label("Quota", exact=True).fill("1G")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(flash(page)).to_have_text("anna@example.org saved.")
    expect(page.get_by_label("Quota", exact=True)).to_have_value(re.compile(r"^1 ?G"))
    snap(page, "domain-admin-mailbox")
    assert Mailbox.objects.get(address="anna@example.org").quota_bytes == 1024**3

    page.get_by_role("region", name="Password").get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="New password of anna@example.org")).to_be_visible()
    expect(page.locator("code.secret")).to_have_count(1)
    snap(page, "domain-admin-password-reset")
    password = page.locator("code.secret").inner_text()
    assert Mailbox.objects.get(address="anna@example.org").check_password(password)

    page.get_by_role("link", name="Back to example.org").click()
    page.get_by_role("link", name="Bulk mailboxes").click()
    expect(page.get_by_role("heading", name="Create mailboxes in example.org")).to_be_visible()
    page.get_by_label("Lines").fill("bert,300M,Bert,Brown\ncarl,300M,Carl,Clark,+49 30 1234")
    snap(page, "domain-admin-bulk-mailboxes")
    page.get_by_role("button", name="Check and create").click()
    expect(page.get_by_role("heading", name="2 mailboxes created")).to_be_visible()
    expect(page.locator("code.secret")).to_have_count(2)
    snap(page, "domain-admin-bulk-created")
    assert set(Mailbox.objects.filter(local_part__in=["bert", "carl"]).values_list("first_name", flat=True)) == {
        "Bert",
        "Carl",
    }

    page.get_by_role("link", name="Back to example.org").click()
    page.get_by_role("link", name="New alias").click()
    expect(page.get_by_role("heading", name="New alias in example.org")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("info")
    page.get_by_label("Destinations").fill("anna, bert")
    snap(page, "domain-admin-new-alias")
    page.get_by_role("button", name="Create alias").click()
    expect(flash(page)).to_have_text("Alias info@example.org created.")

    page.get_by_role("link", name="Bulk aliases").click()
    expect(page.get_by_role("heading", name="Create aliases in example.org")).to_be_visible()
    page.get_by_label("Lines").fill("sales bert,carl\n@ anna")
    page.get_by_role("button", name="Check and create").click()
    expect(flash(page)).to_have_text("2 aliases created.")
    aliases = page.get_by_role("region", name=re.compile("^Aliases"))
    expect(aliases.get_by_role("row", name=re.compile("^info"))).to_contain_text("anna@example.org, bert@example.org")
    expect(aliases.get_by_role("row", name=re.compile("catch-all"))).to_contain_text("anna@example.org")
    snap(page, "domain-admin-aliases", show=aliases)
    assert Alias.objects.get(address="sales@example.org").destination_list == ["bert@example.org", "carl@example.org"]

    # what a domain administrator cannot do: other domains do not exist for them, new domains are not theirs
    assert page.goto(reverse("domains:detail", args=[personas.net.pk])).status == 404
    assert page.goto(reverse("domains:create")).status == 403


@pytest.mark.django_db(transaction=True)
def test_end_user_tasks(guide_page, personas):
    page = guide_page
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="test", first_name="Ulla", last_name="User")

    log_in(page, personas.user.address, personas.password)
    expect(page.get_by_role("heading", name="Ulla User")).to_be_visible()
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    expect(page.get_by_role("link", name="Domains")).to_have_count(0)
    snap(page, "user-my-account")

    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.get_by_label("Current password").fill(personas.password)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    snap(page, "user-password")
    page.get_by_role("button", name="Change password").click()
    expect(flash(page)).to_have_text("Your password is changed; use it for mail too.")
    assert Mailbox.objects.get(pk=personas.user.pk).check_password(NEW_PASSWORD)

    page.get_by_role("link", name="Change vacation reply").click()
    expect(page.get_by_role("heading", name="Vacation reply")).to_be_visible()
    page.get_by_label("Custom text").check()
    page.get_by_label("Subject").fill("Back on Monday")
    page.get_by_label("Text", exact=True).fill("Hello,\nI am away until Monday 4 January.\nUlla")
    page.get_by_label("First day").fill("2026-12-21")
    page.get_by_label("Last day").fill("2027-01-04")
    page.get_by_label("Reply interval").fill("3")
    snap(page, "user-vacation")
    page.get_by_role("button", name="Save vacation reply").click()
    expect(flash(page)).to_have_text("Vacation reply of user@example.org saved.")
    expect(page.get_by_role("region", name="Vacation reply")).to_contain_text("Custom text")
    vacation = Vacation.objects.get(mailbox=personas.user)
    assert (vacation.mode, vacation.subject, vacation.interval_days) == ("custom", "Back on Monday", 3)

    page.get_by_role("link", name="Change forwarding").click()
    expect(page.get_by_role("heading", name="Forwarding")).to_be_visible()
    page.get_by_label("Forward to").fill("ulla@home.example")
    page.get_by_label("Keep a copy in the mailbox").check()
    snap(page, "user-forwarding")
    page.get_by_role("button", name="Save forwarding").click()
    expect(flash(page)).to_have_text("Forwarding of user@example.org saved.")
    expect(page.get_by_text("To ulla@home.example, keeping a copy")).to_be_visible()

    page.get_by_role("link", name="Manage app passwords").click()
    expect(page.get_by_role("heading", name="App passwords", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Phone")
    page.get_by_role("button", name="Create app password").click()
    expect(page.get_by_role("heading", name="App password “Phone”")).to_be_visible()
    expect(page.locator("#app-password")).to_be_visible()
    snap(page, "user-app-password-created")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("row", name=re.compile("^Phone"))).to_contain_text("IMAP, SMTP")
    snap(page, "user-app-passwords")
    assert AppPassword.objects.get(mailbox=personas.user).protocols == ["imap", "smtp"]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    page.get_by_role("link", name="Set up two-factor login").click()
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    expect(page.get_by_text("Off: your password alone opens the panel.")).to_be_visible()
    page.get_by_role("link", name="Set up two-factor login").click()
    expect(page.get_by_role("img", name="QR code of your authenticator's secret")).to_be_visible()
    page.get_by_label("Code").fill(app_code(page.locator("#totp-secret").inner_text()))
    snap(page, "user-two-factor-setup")
    page.get_by_role("button", name="Switch two-factor login on").click()
    expect(page.get_by_role("heading", name="Two-factor login is on")).to_be_visible()
    expect(page.locator("#recovery-codes code")).to_have_count(10)
    snap(page, "user-two-factor-recovery-codes")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    snap(page, "user-two-factor")
    assert twofactor.is_enrolled(personas.user)

    # what an end user cannot do: the administrators' pages answer 403
    assert page.goto(reverse("domains:list")).status == 403
    assert page.goto(reverse("accounts:detail", args=[personas.admin_org.pk])).status == 404


def test_the_guide_shows_every_screenshot_taken_here_and_no_other():
    taken = set(re.findall(r'snap\(page, "([a-z0-9-]+)"', Path(__file__).read_text()))
    shown = set(re.findall(r"\]\(screenshots/([a-z0-9-]+)\.png\)", GUIDE.read_text()))
    assert taken and shown == taken, f"only in the guide: {shown - taken}; only taken here: {taken - shown}"
