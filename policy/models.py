"""Mail policy the directory holds for Exim to apply at SMTP time (issue 15).

Sender lists: a domain, or one mailbox of it, allows or refuses mail from an address
(``user@example.com``), from a whole domain (``@example.com``), or refuses it from client networks
(``192.0.2.0/24``, ``2001:db8::/32``). Exim reads them at RCPT through ``lookup_senders_v2``
(mailserver), by ``owner`` (the mailbox's address, or ``@`` and the domain) and pattern: allow beats
deny, at either level.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from mailadmin.lib.addresses import AddressError, normalize_address, normalize_domain

MAX_RULES_PER_OWNER = 1000


def parse_pattern(text: str) -> tuple[str, bool]:
    """A sender pattern as stored: (pattern, is_network). Addresses and domains in their canonical
    form (lower case, IDN as A-labels), networks as ``ipaddress`` writes them; a ValidationError
    otherwise, saying what is accepted."""
    value = (text or "").strip() if isinstance(text, str) else ""
    if not value or len(value) > 254 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValidationError({"pattern": "Give an address (user@example.com), @example.com, or a network."})
    if value.startswith("@"):
        try:
            return "@" + normalize_domain(value[1:]), False
        except AddressError as exc:
            raise ValidationError({"pattern": f"{value}: {exc}"}) from None
    if "@" in value:
        try:
            return normalize_address(value), False
        except AddressError as exc:
            raise ValidationError({"pattern": f"{value}: {exc}"}) from None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError(
            {"pattern": f"{value!r} is neither an address, @domain, nor a network such as 192.0.2.0/24."}
        ) from None
    if network.prefixlen == 0:
        raise ValidationError({"pattern": f"{value} is every client on the internet: name a smaller network."})
    return network.with_prefixlen, True


class SenderRule(models.Model):
    class Action(models.TextChoices):
        ALLOW = "allow", "Allow"
        DENY = "deny", "Refuse"

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
                violation_error_message="That pattern is already on this list.",
            ),
            models.CheckConstraint(condition=Q(action__in=["allow", "deny"]), name="sender_rule_action_known"),
            models.CheckConstraint(
                condition=Q(is_network=False) | Q(action="deny"),
                name="sender_rule_networks_deny_only",
                violation_error_message="Client networks can only be refused: a network proves no sender.",
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
            raise ValidationError({"action": "Client networks can only be refused: a network proves no sender."})
