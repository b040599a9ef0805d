"""Aliases (forwarders): an address, or a domain's catch-all, and its destinations."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy

from domains.models import AddressInDomain
from mailadmin.lib.addresses import AddressError, normalize_address, normalize_local_part, parse_destinations


def addresses_in_use(addresses) -> dict[str, str]:
    """Address -> why it is taken, for those a mailbox or an alias already has.

    A mailbox and an alias never share an address (either would shadow the other): the one
    home of that rule, for one address (a service) or many (the bulk loader). Callers hold
    the domain's lock (``domains.limits.lock_limits``), so the answer stays true until they write.
    """
    addresses = list(addresses)
    mailboxes = get_user_model().objects.filter(address__in=addresses).values_list("address", flat=True)
    used = {
        address: gettext("%(address)s already exists as a mailbox.") % {"address": address} for address in mailboxes
    }
    aliases = Alias.objects.filter(address__in=addresses).values_list("address", flat=True)
    used.update(
        {address: gettext("%(address)s already exists as an alias.") % {"address": address} for address in aliases}
    )
    return used


class AliasQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        from mailadmin.permissions import visible_domain_filter

        return self.filter(visible_domain_filter(user, prefix="domain__"))

    def search(self, term: str):
        """Aliases whose address starts with ``term`` (any case), or with a destination containing it
        (who forwards to bob?)."""
        local, at, _ = term.lower().partition("@")
        start = Q(local_part=local, address__prefix=term.lower()) if at else Q(local_part__prefix=local)
        return self.filter(start | Q(destinations__icontains=term))

    def get_by_address(self, address: str):
        """An alias by address (``@domain`` names the domain's catch-all), or a ValidationError."""
        text = address.strip()
        try:
            canonical = "@" + normalize_address("x" + text)[2:] if text.startswith("@") else normalize_address(text)
        except AddressError as exc:
            raise ValidationError({"address": str(exc)}) from None
        try:
            return self.select_related("domain").get(address=canonical)
        except self.model.DoesNotExist:
            raise ValidationError({"address": gettext("No alias %(address)s.") % {"address": canonical}}) from None


class Alias(AddressInDomain, models.Model):
    """``local_part`` empty makes the domain's catch-all (address ``@domain``).

    ``destinations`` holds canonical addresses separated by ", " - the form an
    Exim redirect router reads as it is. A bare name given for a destination
    is stored as that name in the alias's own domain.
    """

    address_taken = gettext_lazy("%(address)s already exists as an alias.")

    domain = models.ForeignKey("domains.Domain", on_delete=models.CASCADE, related_name="aliases")
    local_part = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=254, unique=True)
    destinations = models.TextField()
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = AliasQuerySet.as_manager()

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "aliases"
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="alias_unique_local_part"),
        ]

    def __str__(self):
        return self.address

    @property
    def is_catchall(self) -> bool:
        return self.local_part == ""

    @property
    def destination_list(self) -> list[str]:
        return [d for d in self.destinations.split(", ") if d]

    def set_destinations(self, value) -> None:
        """Parse and store destinations (list or text); raises ValidationError."""
        domain_name = self.domain.name if self.domain_id else ""
        try:
            self.destinations = ", ".join(parse_destinations(value, domain_name))
        except AddressError as exc:
            raise ValidationError({"destinations": str(exc)}) from None

    def clean_fields(self, exclude=None):
        """Derive the canonical address and destinations first, so every later check sees them."""
        if self.domain_id:
            try:
                self.local_part = normalize_local_part(self.local_part, allow_empty=True)
            except AddressError as exc:
                raise ValidationError({"local_part": str(exc)}) from None
            self.address = f"{self.local_part}@{self.domain.name}"
            self.set_destinations(self.destinations)
        super().clean_fields(exclude=exclude)

    def clean(self):
        if self.address in self.destination_list:
            raise ValidationError({"destinations": gettext("An alias cannot forward to itself.")})
