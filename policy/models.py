"""Mail policy the directory holds for Exim to apply at SMTP time (issue 15).

Sender lists: a domain, or one mailbox of it, allows or refuses mail from an address
(``user@example.com``), from a whole domain (``@example.com``), or refuses it from client networks
(``192.0.2.0/24``, ``2001:db8::/32``). Exim reads them at RCPT through ``lookup_senders_v2``
(mailserver), by ``owner`` (the mailbox's address, or ``@`` and the domain) and pattern: allow beats
deny, at either level.

DNS blocklists: zones (``zen.spamhaus.org``) Exim asks at RCPT about the client's address, for
mail to the domains that check them (``Domain.check_blocklists``), never for authenticated
submission; an answer among the list's own codes refuses the recipient (550) naming the list and
what that answer means. A lookup that fails or times out counts as not listed: a broken list never
refuses mail. Read through ``lookup_blocklists_v2`` (mailserver).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mailadmin.lib.addresses import AddressError, normalize_address, normalize_domain

MAX_RULES_PER_OWNER = 1000


def every_client(value: str) -> str:
    return gettext("%(value)s is every client on the internet: name a smaller network.") % {"value": value}


def parse_pattern(text: str) -> tuple[str, bool]:
    """A sender pattern as stored: (pattern, is_network). Addresses and domains in their canonical
    form (lower case, IDN as A-labels), networks as ``ipaddress`` writes them; a ValidationError
    otherwise, saying what is accepted."""
    value = (text or "").strip() if isinstance(text, str) else ""
    if not value or len(value) > 254 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValidationError({"pattern": gettext("Give an address (user@example.com), @example.com, or a network.")})
    if value.startswith("@"):
        try:
            return "@" + normalize_domain(value[1:]), False
        except AddressError as exc:
            raise ValidationError(
                {"pattern": gettext("%(value)s: %(reason)s") % {"value": value, "reason": exc}}
            ) from None
    if "@" in value:
        try:
            return normalize_address(value), False
        except AddressError as exc:
            raise ValidationError(
                {"pattern": gettext("%(value)s: %(reason)s") % {"value": value, "reason": exc}}
            ) from None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        text = gettext("%(value)r is neither an address, @domain, nor a network such as 192.0.2.0/24.")
        raise ValidationError({"pattern": text % {"value": value}}) from None
    if network.prefixlen == 0:
        raise ValidationError({"pattern": every_client(value)})
    return network.with_prefixlen, True


class SenderRule(models.Model):
    class Action(models.TextChoices):
        ALLOW = "allow", _("Allow")
        DENY = "deny", _("Refuse")

    domain = models.ForeignKey("domains.Domain", on_delete=models.CASCADE, related_name="sender_rules")
    mailbox = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="sender_rules"
    )
    # What Exim looks the rule up by: the mailbox's address, or "@" and the domain's name
    # (neither is ever renamed; both go with their row).
    owner = models.CharField(max_length=255, editable=False)
    pattern = models.CharField(max_length=255)
    is_network = models.BooleanField(default=False, editable=False)
    action = models.CharField(max_length=5, choices=Action.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "action", "pattern"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "pattern"],
                name="sender_rule_once_per_owner",
                violation_error_message=_("That pattern is already on this list."),
            ),
            models.CheckConstraint(condition=Q(action__in=["allow", "deny"]), name="sender_rule_action_known"),
            models.CheckConstraint(
                condition=Q(is_network=False) | Q(action="deny"),
                name="sender_rule_networks_deny_only",
                violation_error_message=_("Client networks can only be refused: a network proves no sender."),
            ),
        ]

    def __str__(self):
        return f"{self.owner}: {self.action} {self.pattern}"

    @property
    def scope(self) -> str:
        return "mailbox" if self.mailbox_id else "domain"

    def set_pattern(self, text: str) -> None:
        self.pattern, self.is_network = parse_pattern(text)

    def clean(self):
        self.owner = self.mailbox.address if self.mailbox_id else f"@{self.domain.name}"
        if self.is_network and self.action != self.Action.DENY:
            raise ValidationError(
                {"action": gettext("Client networks can only be refused: a network proves no sender.")}
            )


MAX_BLOCKLISTS = 20
MAX_ANSWERS = 64
# Answers some lists give for errors, never for a listing (Spamhaus: 127.255.255.252-255 for a
# query through a public resolver or over its free limit); counted as listings they would refuse
# every client.
ERROR_ANSWERS = ipaddress.ip_network("127.255.255.0/24")
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _answer_address(text: str) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        message = gettext("%(value)r is not an IPv4 address such as 127.0.0.2.")
        raise ValidationError({"answers": message % {"value": text}}) from None
    if address not in LOOPBACK:
        message = gettext("%(address)s: blocklists answer with addresses in 127.0.0.0/8.")
        raise ValidationError({"answers": message % {"address": address}})
    if address in ERROR_ANSWERS:
        message = gettext(
            "%(address)s: answers in 127.255.255.0/24 report errors (a query through a public resolver, or over "
            "the list's limit), not a listing; counted as one, every client would be refused."
        )
        raise ValidationError({"answers": message % {"address": address}})
    return address


def parse_answers(text: str) -> tuple[str, str, str]:
    """The answers that mean "listed", one per line: an address or a range, and what it means
    (``127.0.0.2 spam source``, ``127.0.0.4-127.0.0.7 = exploited host``).

    Returns (the lines as stored, the codes for Exim's ``dnslists`` (``127.0.0.2,127.0.0.4``), the
    meanings as Exim's ``${extract}`` reads them (``127.0.0.2="spam source"``)); a ValidationError
    saying what is wrong otherwise."""
    lines, codes, meanings = [], [], []
    for raw in (text or "").replace(";", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        head, _, meaning = line.partition(" ")
        meaning = meaning.strip().removeprefix("=").strip()
        if len(meaning) > 80 or any(not (0x20 <= ord(c) < 0x7F) or c in '"\\$' for c in meaning):
            text = gettext('%(answer)s: say what it means in at most 80 printable ASCII characters, without " \\ or $.')
            raise ValidationError({"answers": text % {"answer": head}})
        first, dash, last = head.partition("-")
        low = _answer_address(first)
        high = _answer_address(last) if dash else low
        if high < low or int(high) - int(low) >= MAX_ANSWERS:
            text = gettext("%(answer)s: give a range from low to high of at most %(n)s.")
            raise ValidationError({"answers": text % {"answer": head, "n": MAX_ANSWERS}})
        for number in range(int(low), int(high) + 1):
            code = str(ipaddress.IPv4Address(number))
            if code in codes:
                raise ValidationError({"answers": gettext("%(answer)s is given twice.") % {"answer": code}})
            codes.append(code)
            if meaning:
                meanings.append(f'{code}="{meaning}"')
        lines.append(f"{head} {meaning}".strip())
    if not codes:
        raise ValidationError({"answers": gettext("Give the answers that mean listed, such as 127.0.0.2.")})
    if len(codes) > MAX_ANSWERS:
        raise ValidationError({"answers": gettext("At most %(n)s answers.") % {"n": MAX_ANSWERS}})
    return "\n".join(lines), ",".join(codes), " ".join(meanings)


class DnsBlocklist(models.Model):
    """A DNS blocklist zone the server asks about each client that sends to a checking domain."""

    zone = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=100, help_text="Named in the refusal, such as Spamhaus ZEN.")
    answers = models.TextField(help_text="The answers that mean listed, one per line, with what each means.")
    # Derived from ``answers`` by parse_answers (what Exim reads).
    codes = models.CharField(max_length=1100, editable=False)
    meanings = models.TextField(editable=False, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone"]
        indexes = [models.Index(fields=["enabled", "zone"], name="blocklist_enabled_zone")]

    def __str__(self):
        return self.zone

    def meaning_of(self) -> dict[str, str]:
        """Answer -> what it means, from ``meanings`` (the form parse_answers writes)."""
        return dict(re.findall(r'(\S+)="([^"]*)"', self.meanings))

    def clean(self):
        try:
            self.zone = normalize_domain(self.zone or "")
        except AddressError as exc:
            raise ValidationError({"zone": str(exc)}) from None
        if not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", self.zone):
            text = gettext("%(zone)s: give the whole zone in letters, digits, - and _, such as zen.spamhaus.org.")
            raise ValidationError({"zone": text % {"zone": self.zone}})
        name = self.name or ""
        self.name = " ".join(name.split())
        if not self.name or any(not (0x20 <= ord(c) < 0x7F) or c in '"\\$' for c in name):
            raise ValidationError({"name": gettext('Give the list a name in printable ASCII, without " \\ or $.')})
        self.answers, self.codes, self.meanings = parse_answers(self.answers)


# --- Greylisting --------------------------------------------------------------------------------

MAX_GREYLIST_ALLOWED = 1000


def parse_greylist_allow(text: str) -> tuple[str, bool]:
    """An allow-list entry as stored: (pattern, is_network). A client network (``192.0.2.0/24``,
    ``2001:db8::/32``, or one address), a sender domain (``example.com``), or all the subdomains
    of one (``*.example.com``); lower case, IDN as A-labels. A ValidationError otherwise."""
    value = (text or "").strip() if isinstance(text, str) else ""
    if not value or len(value) > 255 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValidationError(
            {"pattern": gettext("Give a client network (192.0.2.0/24), a sender domain, or *.domain.")}
        )
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if network.prefixlen == 0:
            raise ValidationError({"pattern": every_client(value)})
        return network.with_prefixlen, True
    wild, name = ("*.", value[2:]) if value.startswith("*.") else ("", value.removeprefix("@"))
    try:
        domain = normalize_domain(name)
    except AddressError as exc:
        text = gettext("%(value)r is neither a network such as 192.0.2.0/24 nor a domain: %(reason)s")
        raise ValidationError({"pattern": text % {"value": value, "reason": exc}}) from None
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
        text = gettext("%(value)s: give a whole domain such as example.com.")
        raise ValidationError({"pattern": text % {"value": value}})
    return wild + domain, False


class GreylistAllow(models.Model):
    """A client network or a sender domain that greylisting lets through at once (the server's
    list, for every domain that greylists): a provider that sends from many addresses and never
    retries from the same one, or a partner's mail server."""

    pattern = models.CharField(max_length=255, unique=True)
    is_network = models.BooleanField(default=False, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Why it is on the list.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_network", "pattern"]
        indexes = [models.Index(fields=["is_network", "pattern"], name="greylist_allow_kind")]

    def __str__(self):
        return self.pattern

    def clean(self):
        self.pattern, self.is_network = parse_greylist_allow(self.pattern)
        note = " ".join((self.note or "").split())
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in note):
            raise ValidationError({"note": gettext("One line of text.")})
        self.note = note


def triplet_key(client_network: str, sender: str, recipient: str) -> str:
    """The key Exim gives a triplet (deploy/exim/10-acl.conf): SHA-256, in upper-case hex, of the
    client's network as ``${mask_n:}`` writes it (``192.0.2.0/24``), the sender and the recipient
    in lower case, joined by ``/``."""
    text = f"{client_network}/{sender.lower()}/{recipient.lower()}"
    return hashlib.sha256(text.encode()).hexdigest().upper()


class GreylistTriplet(models.Model):
    """One (client network, sender, recipient) greylisting has seen: written by Exim at RCPT
    through its own database user, which may read and write this table and nothing else (the
    lookup users stay read-only); the panel only reads it and the expiry job deletes old rows.
    Times are Unix seconds as Exim's clock gives them ($tod_epoch)."""

    # sha256 of "client network/sender/recipient" as Exim writes it (deploy/exim/10-acl.conf)
    triplet = models.CharField(max_length=64, primary_key=True)
    domain = models.CharField(max_length=253)  # the recipient's hosted domain
    client = models.CharField(max_length=64)  # the client's network: /24 for IPv4, /64 for IPv6
    sender = models.CharField(max_length=255)  # printable ASCII, shortened: for people to read
    recipient = models.CharField(max_length=255)
    first_seen = models.BigIntegerField()
    last_seen = models.BigIntegerField()
    passed = models.SmallIntegerField(default=0)  # 1 once a retry came within the window

    class Meta:
        db_table = "policy_greylist"
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["domain", "last_seen"], name="greylist_domain_seen"),
            models.Index(fields=["last_seen"], name="greylist_seen"),
        ]

    def __str__(self):
        return f"{self.client} {self.sender} -> {self.recipient}"
