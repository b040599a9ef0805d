"""The main journeys of each role, in a real headless Chromium, in English, German and French (the
language as the switcher sets it; every word the journeys look for taken from that language's
catalogue), with screenshots in tests/artifacts/ (English: the names the guide knows; the others
prefixed with their language)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Mailbox
from aliases.models import Alias
from domains.models import AdminGrant, Domain
from tests.browser.conftest import choose_language, log_in, words_in
from vacation.models import Vacation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "journey new password 7"  # noqa: S105 (a test password)
LANGUAGES = pytest.mark.parametrize("language", ["en", "de", "fr"])


@pytest.fixture
def say(page, live_server, shot, language):
    """(t, shot) for the journey's language: its words, and screenshots named for it."""
    choose_language(page, live_server, language)
    prefix = "" if language == "en" else f"{language}-"
    return words_in(language), lambda page, name: shot(page, prefix + name)


@LANGUAGES
def test_superuser_creates_a_domain_and_delegates_it(page, personas, say):
    t, shot = say
    log_in(page, personas.superuser.address, personas.password, t)
    expect(page.get_by_role("heading", name=t("Domains"))).to_be_visible()
    shot(page, "superuser-01-domains")
    page.get_by_role("link", name=t("New domain")).click()
    page.get_by_label(t("Name"), exact=True).fill("shop.example")
    page.get_by_label(t("Most mailboxes")).fill("100")
    page.get_by_label(t("Quota of new mailboxes")).fill("1G")
    page.get_by_label(t("Largest mailbox quota")).fill("4G")
    shot(page, "superuser-02-new-domain")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text(t("Domain %(domain)s created.", domain="shop.example"))
    domain = Domain.objects.get(name="shop.example")
    assert (domain.max_mailboxes, domain.default_quota_bytes) == (100, 1024**3)

    page.get_by_role("link", name=t("New mailbox"), exact=True).click()
    page.get_by_label(t("Name"), exact=True).fill("boss")
    page.get_by_label(t("First name")).fill("Barbara")
    page.locator("#id_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=t("Create mailbox")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("Mailbox %(mailbox)s created.", mailbox="boss@shop.example")
    )

    page.get_by_role("link", name=t("Admins")).click()
    page.get_by_role("link", name=t("New grant")).click()
    page.get_by_label(t("Administrator's mailbox")).fill("boss@shop.example")
    page.get_by_label("shop.example").check()
    page.get_by_label(t("Quota for all its domains")).fill("20G")
    page.get_by_label(t("Mailboxes for all its domains")).fill("50")
    shot(page, "superuser-03-new-grant")
    page.get_by_role("button", name=t("Save grant")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t(
            "%(admin)s now administers %(n)s domain.",
            "%(admin)s now administers %(n)s domains.",
            admin="boss@shop.example",
            n=1,
        )
    )
    shot(page, "superuser-04-grants")
    grant = AdminGrant.objects.get(admin__address="boss@shop.example")
    assert [d.name for d in grant.domains.all()] == ["shop.example"] and grant.max_mailboxes == 50

    # the new admin logs in and sees only their domain, with the grant's usage
    page.get_by_role("button", name=t("Log out")).click()
    log_in(page, "boss@shop.example", NEW_PASSWORD, t)
    expect(page.get_by_role("link", name="shop.example")).to_be_visible()
    expect(page.get_by_role("link", name="example.org")).to_have_count(0)
    expect(page.locator(".grant-usage meter")).to_have_count(2)
    shot(page, "superuser-05-new-admin-sees-grant")


@LANGUAGES
def test_domain_admin_bulk_creates_mailboxes_and_aliases(page, personas, say):
    t, shot = say

    def line(row, name):  # how a refused line starts: "Line 2 (user)", "Ligne 2 (user)"
        return t("Line %(row)s (%(name)s): %(message)s", row=row, name=name, message="").rstrip(" :\u00a0")

    log_in(page, personas.admin_org.address, personas.password, t)
    page.get_by_role("link", name="example.org").click()
    expect(page.get_by_role("heading", name=re.compile("example.org"))).to_be_visible()
    page.get_by_role("link", name=t("Bulk mailboxes")).click()
    page.get_by_label(t("Lines")).fill(
        "anna,200M,Anna,Adams\nuser\nbad/name\nbert,300M,Bert,Brown,+49 30 1,bert@home.example"
    )
    page.get_by_role("button", name=t("Check and create")).click()
    errors = page.locator(".errors")
    expect(errors).to_contain_text(line(2, "user"))
    expect(errors).to_contain_text(line(3, "bad/name"))
    shot(page, "admin-01-bulk-errors")
    assert not Mailbox.objects.filter(local_part__in=["anna", "bert"]).exists()

    page.get_by_label(t("Lines")).fill("anna,200M,Anna,Adams\nbert,300M,Bert,Brown,+49 30 1,bert@home.example\ncarl")
    page.get_by_role("button", name=t("Check and create")).click()
    expect(page.get_by_role("heading", name=t("%(n)s mailboxes created", n=3))).to_be_visible()
    expect(page.locator("code.secret")).to_have_count(3)
    shot(page, "admin-02-passwords-once")
    password = page.locator("tr", has_text="anna@example.org").locator("code.secret").inner_text()
    assert Mailbox.objects.get(address="anna@example.org").check_password(password)

    page.get_by_role("link", name=t("Back to %(name)s", name="example.org")).click()
    page.get_by_role("link", name=t("Bulk aliases")).click()
    page.get_by_label(t("Lines")).fill("sales anna,bert\ninfo anna@example.org\n@ user")
    page.get_by_role("button", name=t("Check and create")).click()
    expect(page.locator(".flash.success")).to_contain_text(t("%(n)s alias created.", "%(n)s aliases created.", n=3))
    assert Alias.objects.filter(domain=personas.org).count() == 3

    # toggle relay off for carl, then bulk-switch filtering off for anna and bert
    row = page.locator("tr", has_text="carl")
    row.get_by_role("button", name=t("Relay")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("%(flag)s off for %(mailbox)s.", flag=t("Relay"), mailbox="carl@example.org")
    )
    page.get_by_label(t("Tick %(address)s", address="anna@example.org")).check()
    page.get_by_label(t("Tick %(address)s", address="bert@example.org")).check()
    page.locator("select[name=filtering]").select_option("off")
    page.get_by_role("button", name=t("Apply")).click()
    expect(page.locator(".flash.success")).to_contain_text(t("%(n)s mailbox changed.", "%(n)s mailboxes changed.", n=2))
    assert not Mailbox.objects.get(address="bert@example.org").filtering
    # the superuser's mailbox in the domain offers no actions to the admin
    expect(page.get_by_label(t("Tick %(address)s", address="root@example.org"))).to_have_count(0)
    shot(page, "admin-03-domain-page")

    # delete one, through the confirmation
    page.get_by_label(t("Tick %(address)s", address="carl@example.org")).check()
    page.get_by_role("button", name=t("Delete ticked")).click()
    expect(page.locator(".flash.success")).to_contain_text(t("%(n)s mailbox deleted.", "%(n)s mailboxes deleted.", n=1))
    assert not Mailbox.objects.filter(address="carl@example.org").exists()

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "admin-04-domain-page-phone")


@LANGUAGES
def test_domain_admin_restores_a_deleted_mailbox(page, personas, say):
    t, shot = say
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))  # the page fixture accepts them
    log_in(page, personas.admin_org.address, personas.password, t)
    page.goto(f"/mailboxes/{personas.user.pk}/")
    page.get_by_role("button", name=t("Delete mailbox")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("Mailbox %(mailbox)s deleted.", mailbox="user@example.org")
    )
    page.get_by_role("link", name=t("Deleted mailboxes (%(n)s)", n=1)).click()
    row = page.locator("tr", has_text="user@example.org")
    expect(row).to_contain_text("admin@example.org")
    expect(row).to_contain_text(t("Waiting to be archived"))
    shot(page, "admin-05-deleted-mailboxes")
    row.get_by_role("button", name=t("Restore")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("Mailbox %(address)s restored with its old password and mail.", address="user@example.org")
    )
    assert asked[-1] == t("Restore %(address)s with its old password and mail?", address="user@example.org")
    assert Mailbox.objects.get(address="user@example.org").check_password(personas.password)
    expect(page.get_by_text(t("No deleted mailboxes whose mail is still kept."))).to_be_visible()


@LANGUAGES
def test_end_user_changes_password_and_sets_a_vacation(page, personas, say):
    t, shot = say
    log_in(page, personas.user.address, personas.password, t)
    expect(page.get_by_role("heading", name=t("Usage"))).to_be_visible()
    expect(page.get_by_role("link", name=t("Domains"))).to_have_count(0)
    shot(page, "user-01-my-account")
    page.get_by_role("link", name=t("Change password")).click()
    page.get_by_label(t("Current password")).fill("not it")
    page.get_by_label(t("New password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_label(t("New password again")).fill(NEW_PASSWORD)
    page.get_by_role("button", name=t("Change password")).click()
    expect(page.locator(".error")).to_contain_text(t("Your current password is not right."))
    shot(page, "user-02-password-error")
    page.get_by_label(t("Current password")).fill(personas.password)
    page.get_by_label(t("New password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_label(t("New password again")).fill(NEW_PASSWORD)
    page.get_by_role("button", name=t("Change password")).click()
    expect(page.locator(".flash.success")).to_contain_text(t("Your password is changed; use it for mail too."))

    page.get_by_role("button", name=t("Log out")).click()
    log_in(page, personas.user.address, NEW_PASSWORD, t)
    page.get_by_role("link", name=t("Change vacation reply")).click()
    page.get_by_label(t("Custom text")).check()
    page.get_by_label(t("Subject")).fill("Back on Monday")
    page.get_by_label(t("Text"), exact=True).fill("Hello,\nI am away until Monday.\nUlla")
    page.get_by_label(t("First day")).fill("2026-12-21")
    page.get_by_label(t("Last day")).fill("2027-01-04")
    page.get_by_label(t("Reply interval")).fill("3")
    shot(page, "user-03-vacation")
    page.get_by_role("button", name=t("Save vacation reply")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("Vacation reply of %(mailbox)s saved.", mailbox="user@example.org")
    )
    shot(page, "user-04-saved")
    vacation = Vacation.objects.get(mailbox=personas.user)
    assert (vacation.mode, vacation.subject, vacation.interval_days) == ("custom", "Back on Monday", 3)
    assert vacation.body == "Hello,\nI am away until Monday.\nUlla"


@LANGUAGES
def test_end_user_forwards_their_mail_and_downloads_the_apple_profile(page, personas, say):
    import plistlib

    t, shot = say
    log_in(page, personas.user.address, personas.password, t)
    page.get_by_role("link", name=t("Change forwarding")).click()
    page.get_by_label(t("Forward to")).fill("ulla@home.example")
    page.get_by_label(t("Keep a copy in the mailbox")).check()
    shot(page, "user-05-forwarding")
    page.get_by_role("button", name=t("Save forwarding")).click()
    expect(page.locator(".flash.success")).to_contain_text(
        t("Forwarding of %(mailbox)s saved.", mailbox="user@example.org")
    )
    expect(page.get_by_text(t("To %(targets)s, keeping a copy", targets="ulla@home.example"))).to_be_visible()
    mailbox = Mailbox.objects.get(pk=personas.user.pk)
    assert (mailbox.forward_list, mailbox.forward_keep_copy) == (["ulla@home.example"], True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=t("Download the Apple profile")).click()
    download = download_info.value
    assert download.suggested_filename == "user@example.org.mobileconfig"
    with open(download.path(), "rb") as handle:
        profile = plistlib.load(handle)
    assert profile["PayloadContent"][0]["EmailAddress"] == "user@example.org"
    shot(page, "user-06-programs")
