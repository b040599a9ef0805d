"""Domains, domain aliases and the grants that delegate domains to administrators.

Limits use 0 for "unlimited" throughout (as Dovecot's quota rules do).
"""

import ipaddress

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext, gettext_lazy, ngettext

from mailadmin.lib.addresses import AddressError, display_domain, normalize_domain
from mailadmin.lib.sizes import SizeError, parse_size
from mailadmin.templatetags import panel


def server_message_limit() -> int:
    """The server's own message size limit in bytes (``MAIL_MESSAGE_SIZE_LIMIT``, Exim's
    ``message_size_limit``, announced in EHLO SIZE); 0 when it is none or not a plain size."""
    try:
        return parse_size(str(settings.MAIL_MESSAGE_SIZE_LIMIT))
    except SizeError:
        return 0


def validate_domain_name(value: str) -> None:
    try:
        if normalize_domain(value) != value:
            raise ValidationError(gettext("Store domain names in their canonical (lower-case A-label) form."))
    except AddressError as exc:
        raise ValidationError(str(exc), code="invalid") from None


def names_in_use(names) -> dict[str, tuple[type, str]]:
    """Name -> (the model that has it, why it is taken), for names a domain or a domain alias has.

    Domains and domain aliases share one namespace (a name is local for one reason only): the
    one home of that rule, for one name or many. Writers hold ``domains.limits.lock_names`` so
    the answer stays true until they write.
    """
    names = list(names)
    used = {
        n: (Domain, gettext("%(name)s is already a domain.") % {"name": n})
        for n in Domain.objects.filter(name__in=names).values_list("name", flat=True)
    }
    aliases = DomainAlias.objects.filter(name__in=names).values_list("name", flat=True)
    used.update({n: (DomainAlias, gettext("%(name)s is already a domain alias.") % {"name": n}) for n in aliases})
    return used


@models.CharField.register_lookup
class Prefix(StartsWith):
    """``field__prefix=text``: ``startswith`` for the columns that MariaDB collates binary (names and
    addresses: domains 0003, accounts 0006, aliases 0002), written so that their index can read it as
    a range. Django writes ``startswith`` there as ``LIKE BINARY``, which MariaDB filters entry by
    entry: a search of a 10,000-mailbox domain read all its index entries (5-6 ms). A plain ``LIKE``
    follows the column's collation, binary, so it is as exact, and is a range. Elsewhere it is
    ``startswith`` as Django writes it (PostgreSQL: exact; SQLite: ASCII letters in any case). On a
    column of a case-insensitive collation MariaDB would match in any case: use it on those columns only.
    """

    lookup_name = "prefix"

    def get_rhs_op(self, connection, rhs):
        like = "istartswith" if connection.vendor == "mysql" else "startswith"  # (MariaDB's is a plain LIKE)
        if hasattr(self.rhs, "as_sql") or self.bilateral_transforms:
            return connection.pattern_ops[like].format(connection.pattern_esc).format(rhs)
        return connection.operators[like] % rhs


class AddressInDomain:
    """What a mailbox and an alias share: an address ``local_part@domain``, unique per kind
    (and across both kinds: ``aliases.models.addresses_in_use``). ``address_taken`` names the
    kind in the error ("x@example.org already exists as a mailbox.")."""

    address_taken = gettext_lazy("%(address)s already exists as an address.")

    def validate_constraints(self, exclude=None):
        """(domain, local part) repeats the address's uniqueness: report a clash once."""
        if exclude and "address" in exclude:
            exclude = set(exclude) | {"local_part"}
        super().validate_constraints(exclude=exclude)

    def unique_error_message(self, model_class, unique_check):
        if tuple(unique_check) == ("address",):
            return ValidationError(self.address_taken % {"address": self.address}, code="unique")
        return super().unique_error_message(model_class, unique_check)


class DomainQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        """The domains ``user`` may see: all for a superuser, granted ones for an admin."""
        from mailadmin.permissions import visible_domain_filter

        return self.filter(visible_domain_filter(user))

    def get_by_name(self, name: str):
        """The domain of that name (any spelling, U-label or A-label), or a ValidationError that says why not."""
        try:
            ascii_name = normalize_domain(name)
        except AddressError as exc:
            raise ValidationError({"domain": str(exc)}) from None
        try:
            return self.get(name=ascii_name)
        except self.model.DoesNotExist:
            raise ValidationError({"domain": gettext("No domain %(name)s.") % {"name": ascii_name}}) from None

    def with_usage(self):
        """Each domain with ``mailbox_count``, ``alias_count``, ``usage_bytes`` and ``quota_bytes``: its
        row of the totals the database keeps (``accounts.totals``), joined."""
        return self.annotate(
            mailbox_count=Coalesce(F("totals__mailboxes"), Value(0)),
            alias_count=Coalesce(F("totals__aliases"), Value(0)),
            usage_bytes=Coalesce(F("totals__usage_bytes"), Value(0)),
            quota_bytes=Coalesce(F("totals__quota_bytes"), Value(0)),
        )


class Domain(models.Model):
    name = models.CharField(max_length=253, unique=True, validators=[validate_domain_name])
    description = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True, help_text="Visible to the MTA: mail for it is accepted.")
    logins_enabled = models.BooleanField(default=True, help_text="IMAP, POP3 and SMTP AUTH for its mailboxes.")
    default_may_relay = models.BooleanField(default=True, help_text="Whether new mailboxes may relay.")
    # What new mailboxes may log in to (accounts.models.PROTOCOL_FIELDS); each mailbox can differ.
    default_allow_imap = models.BooleanField(default=True, help_text="New mailboxes may use IMAP.")
    default_allow_pop3 = models.BooleanField(default=True, help_text="New mailboxes may use POP3.")
    default_allow_smtp = models.BooleanField(default=True, help_text="New mailboxes may send with SMTP AUTH.")
    default_allow_sieve = models.BooleanField(default=True, help_text="New mailboxes may use ManageSieve.")
    users_may_forward = models.BooleanField(default=True, help_text="Users set the forwarding of their own mailbox.")
    require_two_factor = models.BooleanField(
        default=False, help_text="Its administrators log in to the panel with a second factor."
    )
    require_app_passwords = models.BooleanField(
        default=False,
        help_text="Mail programs (IMAP, POP3, SMTP, ManageSieve) log in with app passwords only; "
        "the main password then works in the panel only.",
    )
    # Read by Exim from lookup_domains_v2 at RCPT: clients on the DNS blocklists (policy.DnsBlocklist) are refused.
    check_blocklists = models.BooleanField(
        default=True, help_text="Mail to its addresses from clients on the DNS blocklists is refused."
    )
    # Greylisting (read by Exim from lookup_domains_v2 at RCPT; the triplets are policy.GreylistTriplet):
    # a client that is not authenticated and not on the allow list (policy.GreylistAllow) is told to
    # try again (451) the first time a (client network, sender, recipient) is seen, and accepted when
    # it does so after greylist_delay seconds and within greylist_window_hours; a triplet that has
    # passed is accepted at once until greylist_expiry_days go by without mail.
    greylist = models.BooleanField(
        default=False, help_text="A new sender's first attempt from an unknown client is told to try again later."
    )
    greylist_delay = models.PositiveIntegerField(
        default=300,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
        help_text="Seconds before a retry is accepted (1 to 86400).",
    )
    greylist_window_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="Hours within which the retry must come (1 to 720).",
    )
    greylist_expiry_days = models.PositiveIntegerField(
        default=36,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Days a sender that passed is remembered after its last message (1 to 3650).",
    )
    # A relay (backup MX) domain: mail to the recipients the primary accepts (RelayRecipient, or a
    # callout to it) is taken here and passed to relay_host; its mailboxes live there, none here.
    # Read by Exim from lookup_domains_v2.
    relay_host = models.CharField(
        max_length=253,
        blank=True,
        default="",
        help_text="Relay its mail to this host (its primary MX, or an internal server); empty: hosted here.",
    )
    relay_port = models.PositiveIntegerField(default=25, help_text="The relay host's SMTP port.")
    relay_verify = models.CharField(
        max_length=8,
        choices=[
            ("list", gettext_lazy("Listed recipients")),
            ("callout", gettext_lazy("Ask the relay host (callout)")),
        ],
        default="list",
        help_text="Which recipients are taken: those on the domain's relay list (mail then waits here while "
        "the relay host is down), or those the relay host accepts when asked at once (while it is down, "
        "senders are told to try again).",
    )
    # Kept by the DNS check job (manage.py dns --check-all): records missing or wrong at its last run.
    dns_problems = models.PositiveIntegerField(null=True, blank=True)
    dns_checked_at = models.DateTimeField(null=True, blank=True)
    forward_outside = models.BooleanField(
        default=True, help_text="Mailboxes may forward to addresses outside this server."
    )
    max_mailboxes = models.PositiveIntegerField(default=0, help_text="0 = unlimited")
    max_aliases = models.PositiveIntegerField(default=0, help_text="0 = unlimited")
    max_quota_bytes = models.PositiveBigIntegerField(default=0, help_text="Largest mailbox quota; 0 = unlimited")
    default_quota_bytes = models.PositiveBigIntegerField(default=0, help_text="Quota of new mailboxes; 0 = unlimited")
    # What its mailboxes may send an hour when they say nothing of their own (Exim's ratelimit).
    default_max_sent_per_hour = models.PositiveIntegerField(
        default=0, help_text="Messages a mailbox may send an hour (SMTP AUTH); 0 = no limit"
    )
    default_max_recipients_per_hour = models.PositiveIntegerField(
        default=0, help_text="Recipients a mailbox may send to an hour; 0 = no limit"
    )
    # Read by Exim from lookup_domains_v2 at RCPT (a declared SIZE) and DATA: 552 above it.
    max_message_bytes = models.PositiveBigIntegerField(
        default=0, help_text="Largest message its addresses accept; 0 = the server's limit"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = DomainQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_quota_bytes=0) | Q(default_quota_bytes__lte=models.F("max_quota_bytes")),
                name="domain_default_quota_within_max",
                violation_error_message=gettext_lazy("The default mailbox quota cannot exceed the domain's maximum."),
            ),
            models.CheckConstraint(
                condition=Q(max_quota_bytes=0) | ~Q(default_quota_bytes=0),
                name="domain_default_quota_limited_when_max",
                violation_error_message=gettext_lazy(
                    "With a maximum mailbox quota, the default quota cannot be unlimited (0)."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return display_domain(self.name)

    def clean(self):
        if self.name:
            try:
                self.name = normalize_domain(self.name)
            except AddressError as exc:
                raise ValidationError({"name": str(exc)}) from None
            owner, reason = names_in_use([self.name]).get(self.name, (None, ""))
            if owner is DomainAlias:  # (another domain of this name: the unique check says so)
                raise ValidationError({"name": reason})
        self.clean_relay()
        if (
            self.greylist_delay
            and self.greylist_window_hours
            and self.greylist_delay >= self.greylist_window_hours * 3600
        ):
            raise ValidationError(
                {"greylist_delay": gettext("Shorter than the retry window, or no retry could ever be accepted.")}
            )
        server = server_message_limit()
        if self.max_message_bytes and server and self.max_message_bytes > server:
            limit = panel.size(server)
            text = gettext("At most the server's limit, %(size)s (MAIL_MESSAGE_SIZE_LIMIT).") % {"size": limit}
            raise ValidationError({"max_message_bytes": text})

    def clean_relay(self) -> None:
        """A relay host is a host name or an IPv4 address; a domain relayed elsewhere holds no
        mailboxes, aliases or domain aliases here (they would never see mail)."""
        host = (self.relay_host or "").strip().rstrip(".")
        if not host:
            self.relay_host = ""
            return
        try:
            self.relay_host = str(ipaddress.IPv4Address(host))
        except ValueError:
            if ":" in host or host.startswith("["):
                raise ValidationError(
                    {
                        "relay_host": gettext(
                            "Give an IPv4 address or a host name (for IPv6, a name with an AAAA record)."
                        )
                    }
                ) from None
            try:
                self.relay_host = normalize_domain(host)
            except AddressError as exc:
                raise ValidationError({"relay_host": str(exc)}) from None
        if not 1 <= (self.relay_port or 0) <= 65535:
            raise ValidationError({"relay_port": gettext("A port from 1 to 65535.")})
        if self.pk:
            mailboxes, aliases, domain_aliases = (
                self.mailboxes.count(),
                self.aliases.count(),
                self.domain_aliases.count(),
            )
            held = [
                text % {"n": count}
                for count, text in (
                    (mailboxes, ngettext("%(n)s mailbox", "%(n)s mailboxes", mailboxes)),
                    (aliases, ngettext("%(n)s alias", "%(n)s aliases", aliases)),
                    (domain_aliases, ngettext("%(n)s domain alias", "%(n)s domain aliases", domain_aliases)),
                )
                if count
            ]
            if held:
                text = gettext("%(domain)s still has %(held)s here: a relayed domain holds none.")
                raise ValidationError({"relay_host": text % {"domain": self.name, "held": ", ".join(held)}})

    @property
    def relay_route(self) -> str:
        return relay_route(self.relay_host, self.relay_port)

    def allocated_quota_bytes(self) -> int:
        return get_user_model().objects.totals_by_domain([self]).get(self.pk, {}).get("quota_bytes", 0)


class DomainAlias(models.Model):
    """Another name for a domain: local@alias resolves as local@target."""

    name = models.CharField(max_length=253, unique=True, validators=[validate_domain_name])
    target = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="domain_aliases")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "domain aliases"

    def __str__(self):
        return f"{self.name} \u2192 {self.target.name}"

    def clean(self):
        if self.name:
            try:
                self.name = normalize_domain(self.name)
            except AddressError as exc:
                raise ValidationError({"name": str(exc)}) from None
            owner, reason = names_in_use([self.name]).get(self.name, (None, ""))
            if owner is Domain:
                raise ValidationError({"name": reason})


class AdminGrant(models.Model):
    """A mailbox administers these domains within a shared quota and mailbox count.

    The usage side of the limits is never written by Python: it is the sum of
    the granted domains' mailbox totals, which database triggers keep in the
    transaction of every write to a mailbox (``accounts.totals``), so it
    stays right whoever changes those domains.
    """

    admin = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grant")
    domains = models.ManyToManyField(Domain, related_name="grants", blank=True)
    quota_bytes = models.PositiveBigIntegerField(default=0, help_text="Shared by all granted domains; 0 = unlimited")
    max_mailboxes = models.PositiveIntegerField(default=0, help_text="Shared by all granted domains; 0 = unlimited")
    can_create_mailboxes = models.BooleanField(default=True)
    can_delete_mailboxes = models.BooleanField(default=True)
    can_appoint_admins = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"grant of {self.admin}"

    def usage(self, totals: dict | None = None) -> dict:
        """Quota allocated and mailboxes counted across all granted domains now.

        ``totals``: the per-domain figures of exactly its domains, already read
        (``Mailbox.objects.totals_by_domain``), summed here without a query.
        """
        if totals is None:
            totals = get_user_model().objects.totals_by_domain(self.domains.all())
        return {
            "quota_bytes": sum(t["quota_bytes"] for t in totals.values()),
            "mailboxes": sum(t["mailboxes"] for t in totals.values()),
            "unlimited": sum(t["unlimited"] for t in totals.values()),
        }


class DkimKey(models.Model):
    """A DKIM signing key of a domain (RFC 6376; Ed25519: RFC 8463).

    The private key never reaches a lookup view or a page: ``manage.py dkim install`` writes the
    signing keys into files only Exim's group may read. A retired key no longer signs; its public
    key stays in the DNS records until ``retired_at`` plus the grace period, so mail signed with it
    still verifies while it is on its way.
    """

    class Algorithm(models.TextChoices):
        RSA = "rsa", "RSA 2048"
        ED25519 = "ed25519", "Ed25519"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="dkim_keys")
    selector = models.CharField(max_length=63)
    algorithm = models.CharField(max_length=10, choices=Algorithm.choices)
    private_key = models.TextField(help_text="PKCS#8 PEM; written to Exim's key files, never shown")
    public_key = models.TextField(help_text="The p= value of the DNS record (base64)")
    created = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain", "-created", "selector"]
        constraints = [models.UniqueConstraint(fields=["domain", "selector"], name="dkim_unique_selector")]

    def __str__(self):
        return f"{self.selector}._domainkey.{self.domain.name}"

    @property
    def signing(self) -> bool:
        return self.retired_at is None

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain.name}"

    @property
    def record_text(self) -> str:
        """The TXT record's text (RFC 6376 3.6.1)."""
        return f"v=DKIM1; k={self.algorithm}; p={self.public_key}"


def relay_route(host: str, port: int) -> str:
    """Where a relay domain's mail goes, as people write it: host, or host:port."""
    return host if int(port) == 25 else f"{host}:{port}"


class RelayRecipient(models.Model):
    """An address a relay domain takes mail for (``local@domain``, or ``@domain`` for all of them):
    the primary's own list, kept here so that mail to any other address is refused at once (550)
    and never bounced later. Read by Exim through ``lookup_relay_recipients_v2``."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="relay_recipients")
    address = models.CharField(max_length=254, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]

    def __str__(self):
        return self.address
