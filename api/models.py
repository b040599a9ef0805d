"""API tokens: how a program acts for a person through the REST API (``api.tokens``)."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A named, expiring, revocable token of one account, never worth more than the account.

    It reads ``mda_<key id><secret>``: the key id (10 characters, stored in clear, unique) finds the
    row, and only the SHA-256 of the secret (40 base32 characters: 200 bits) is stored. Its scope:
    ``read_only`` (GET only), and ``all_domains`` or the chosen ``domains``; what it may do within
    that is what its owner may do now (``mailadmin.permissions``), so a lost grant is lost to the
    token at once. ``window_start``/``window_count`` count its requests for the rate limit.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    key_id = models.CharField(max_length=10, unique=True)
    digest = models.CharField(max_length=64)
    read_only = models.BooleanField(default=True)
    all_domains = models.BooleanField(default=True)
    domains = models.ManyToManyField("domains.Domain", blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="api_token_name_unique")]

    def __str__(self):
        return f"API token {self.name!r} of {self.owner}"
