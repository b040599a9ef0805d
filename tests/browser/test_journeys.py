"""The main journeys of each role, in a real headless Chromium, with screenshots in tests/artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Mailbox
from aliases.models import Alias
from domains.models import AdminGrant, Domain
from tests.browser.conftest import log_in
from vacation.models import Vacation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "journey new password 7"  # noqa: S105 (a test password)


def test_superuser_creates_a_domain_and_delegates_it(page, personas, shot):
    log_in(page, personas.superuser.address, personas.password)
    expect(page.get_by_role("heading", name="Domains")).to_be_visible()
    shot(page, "superuser-01-domains")
    page.get_by_role("link", name="New domain").click()
    page.get_by_label("Name", exact=True).fill("shop.example")
    page.get_by_label("Most mailboxes").fill("100")
    page.get_by_label("Quota of new mailboxes").fill("1G")
    page.get_by_label("Largest mailbox quota").fill("4G")
    shot(page, "superuser-02-new-domain")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash.success")).to_contain_text("Domain shop.example created")
    domain = Domain.objects.get(name="shop.example")
    assert (domain.max_mailboxes, domain.default_quota_bytes) == (100, 1024**3)

    page.get_by_role("link", name="New mailbox").click()
    page.get_by_label("Name", exact=True).fill("boss")
    page.get_by_label("First name").fill("Barbara")
    page.locator("#id_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create mailbox").click()
    expect(page.locator(".flash.success")).to_contain_text("boss@shop.example created")

    page.get_by_role("link", name="Admins").click()
    page.get_by_role("link", name="New grant").click()
    page.get_by_label("Administrator's mailbox").fill("boss@shop.example")
    page.get_by_label("shop.example").check()
    page.get_by_label("Quota for all its domains").fill("20G")
    page.get_by_label("Mailboxes for all its domains").fill("50")
    shot(page, "superuser-03-new-grant")
    page.get_by_role("button", name="Save grant").click()
    expect(page.locator(".flash.success")).to_contain_text("boss@shop.example now administers 1 domain")
    shot(page, "superuser-04-grants")
    grant = AdminGrant.objects.get(admin__address="boss@shop.example")
    assert [d.name for d in grant.domains.all()] == ["shop.example"] and grant.max_mailboxes == 50

    # the new admin logs in and sees only their domain, with the grant's usage
    page.get_by_role("button", name="Log out").click()
    log_in(page, "boss@shop.example", NEW_PASSWORD)
    expect(page.get_by_role("link", name="shop.example")).to_be_visible()
    expect(page.get_by_role("link", name="example.org")).to_have_count(0)
    expect(page.locator(".grant-usage meter")).to_have_count(2)
    shot(page, "superuser-05-new-admin-sees-grant")


def test_domain_admin_bulk_creates_mailboxes_and_aliases(page, personas, shot):
    log_in(page, personas.admin_org.address, personas.password)
    page.get_by_role("link", name="example.org").click()
    expect(page.get_by_role("heading", name=re.compile("example.org"))).to_be_visible()
    page.get_by_role("link", name="Bulk mailboxes").click()
    page.get_by_label("Lines").fill(
        "anna,200M,Anna,Adams\nuser\nbad/name\nbert,300M,Bert,Brown,+49 30 1,bert@home.example"
    )
    page.get_by_role("button", name="Check and create").click()
    errors = page.locator(".errors")
    expect(errors).to_contain_text("Line 2 (user)")
    expect(errors).to_contain_text("Line 3 (bad/name)")
    shot(page, "admin-01-bulk-errors")
    assert not Mailbox.objects.filter(local_part__in=["anna", "bert"]).exists()

    page.get_by_label("Lines").fill("anna,200M,Anna,Adams\nbert,300M,Bert,Brown,+49 30 1,bert@home.example\ncarl")
    page.get_by_role("button", name="Check and create").click()
    expect(page.get_by_role("heading", name="3 mailboxes created")).to_be_visible()
    expect(page.locator("code.secret")).to_have_count(3)
    shot(page, "admin-02-passwords-once")
    password = page.locator("tr", has_text="anna@example.org").locator("code.secret").inner_text()
    assert Mailbox.objects.get(address="anna@example.org").check_password(password)

    page.get_by_role("link", name="Back to example.org").click()
    page.get_by_role("link", name="Bulk aliases").click()
    page.get_by_label("Lines").fill("sales anna,bert\ninfo anna@example.org\n@ user")
    page.get_by_role("button", name="Check and create").click()
    expect(page.locator(".flash.success")).to_contain_text("3 aliases created")
    assert Alias.objects.filter(domain=personas.org).count() == 3

    # toggle relay off for carl, then bulk-switch filtering off for anna and bert
    row = page.locator("tr", has_text="carl")
    row.get_by_role("button", name="Relay").click()
    expect(page.locator(".flash.success")).to_contain_text("Relay off for carl@example.org")
    page.get_by_label("Tick anna@example.org").check()
    page.get_by_label("Tick bert@example.org").check()
    page.locator("select[name=filtering]").select_option("off")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flash.success")).to_contain_text("2 mailboxes changed")
    assert not Mailbox.objects.get(address="bert@example.org").filtering
    # the superuser's mailbox in the domain offers no actions to the admin
    expect(page.get_by_label("Tick root@example.org")).to_have_count(0)
    shot(page, "admin-03-domain-page")

    # delete one, through the confirmation
    page.get_by_label("Tick carl@example.org").check()
    page.get_by_role("button", name="Delete ticked").click()
    expect(page.locator(".flash.success")).to_contain_text("1 mailbox deleted")
    assert not Mailbox.objects.filter(address="carl@example.org").exists()

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "admin-04-domain-page-phone")


def test_domain_admin_restores_a_deleted_mailbox(page, personas, shot):
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))  # the page fixture accepts them
    log_in(page, personas.admin_org.address, personas.password)
    page.goto(f"/mailboxes/{personas.user.pk}/")
    page.get_by_role("button", name="Delete mailbox").click()
    expect(page.locator(".flash.success")).to_contain_text("Mailbox user@example.org deleted")
    page.get_by_role("link", name="Deleted mailboxes (1)").click()
    row = page.locator("tr", has_text="user@example.org")
    expect(row).to_contain_text("admin@example.org")
    expect(row).to_contain_text("Waiting to be archived")
    shot(page, "admin-05-deleted-mailboxes")
    row.get_by_role("button", name="Restore").click()
    expect(page.locator(".flash.success")).to_contain_text("Mailbox user@example.org restored")
    assert asked[-1] == "Restore user@example.org with its old password and mail?"
    assert Mailbox.objects.get(address="user@example.org").check_password(personas.password)
    expect(page.get_by_text("No deleted mailboxes whose mail is still kept.")).to_be_visible()


def test_end_user_changes_password_and_sets_a_vacation(page, personas, shot):
    log_in(page, personas.user.address, personas.password)
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    expect(page.get_by_role("link", name="Domains")).to_have_count(0)
    shot(page, "user-01-my-account")
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("not it")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".error")).to_contain_text("current password is not right")
    shot(page, "user-02-password-error")
    page.get_by_label("Current password").fill(personas.password)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash.success")).to_contain_text("Your password is changed")

    page.get_by_role("button", name="Log out").click()
    log_in(page, personas.user.address, NEW_PASSWORD)
    page.get_by_role("link", name="Change vacation reply").click()
    page.get_by_label("Custom text").check()
    page.get_by_label("Subject").fill("Back on Monday")
    page.get_by_label("Text", exact=True).fill("Hello,\nI am away until Monday.\nUlla")
    page.get_by_label("First day").fill("2026-12-21")
    page.get_by_label("Last day").fill("2027-01-04")
    page.get_by_label("Reply interval").fill("3")
    shot(page, "user-03-vacation")
    page.get_by_role("button", name="Save vacation reply").click()
    expect(page.locator(".flash.success")).to_contain_text("Vacation reply of user@example.org saved")
    shot(page, "user-04-saved")
    vacation = Vacation.objects.get(mailbox=personas.user)
    assert (vacation.mode, vacation.subject, vacation.interval_days) == ("custom", "Back on Monday", 3)
    assert vacation.body == "Hello,\nI am away until Monday.\nUlla"


def test_end_user_forwards_their_mail_and_downloads_the_apple_profile(page, personas, shot):
    import plistlib

    log_in(page, personas.user.address, personas.password)
    page.get_by_role("link", name="Change forwarding").click()
    page.get_by_label("Forward to").fill("ulla@home.example")
    page.get_by_label("Keep a copy in the mailbox").check()
    shot(page, "user-05-forwarding")
    page.get_by_role("button", name="Save forwarding").click()
    expect(page.locator(".flash.success")).to_contain_text("Forwarding of user@example.org saved")
    expect(page.get_by_text("To ulla@home.example, keeping a copy")).to_be_visible()
    mailbox = Mailbox.objects.get(pk=personas.user.pk)
    assert (mailbox.forward_list, mailbox.forward_keep_copy) == (["ulla@home.example"], True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the Apple profile").click()
    download = download_info.value
    assert download.suggested_filename == "user@example.org.mobileconfig"
    with open(download.path(), "rb") as handle:
        profile = plistlib.load(handle)
    assert profile["PayloadContent"][0]["EmailAddress"] == "user@example.org"
    shot(page, "user-06-programs")
