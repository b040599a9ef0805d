"""The mailbox: a mail account and the panel's login identity (username = address)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts import totals
from domains.models import AddressInDomain
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address, normalize_local_part, parse_destinations

# The settable fields of a mailbox, named once: the service's parameters, the CLI's options, the
# forms and the CSV columns all take them from here.
PROFILE_FIELDS = ("first_name", "last_name", "phone", "other_email", "notes")
FLAG_FIELDS = ("active", "may_relay", "filtering")
# What the panel calls each switch (its toggle buttons and their messages): the one home of the
# names. Other apps read it as get_user_model().FLAG_LABELS.
FLAG_LABELS = {
    "active": gettext_lazy("Active"),
    "may_relay": gettext_lazy("Relay"),
    "filtering": gettext_lazy("Filtering"),
}
# The mail protocols a mailbox may log in to (Dovecot's passdb reads them from lookup_logins_v2;
# Exim's SMTP AUTH asks Dovecot as "smtp"). A new mailbox takes its domain's defaults.
PROTOCOL_FIELDS = ("allow_imap", "allow_pop3", "allow_smtp", "allow_sieve")
# How much an authenticated mailbox may send an hour (Exim's ratelimit; None: its domain's default).
SEND_LIMIT_FIELDS = ("max_sent_per_hour", "max_recipients_per_hour")
MAILBOX_SETTINGS = (*PROFILE_FIELDS, *FLAG_FIELDS, *PROTOCOL_FIELDS, "quota_bytes", *SEND_LIMIT_FIELDS)
# What a deleted mailbox's archive keeps, to give it back on restore.
ARCHIVED_SETTINGS = (
    "quota_bytes",
    *PROFILE_FIELDS,
    *FLAG_FIELDS,
    *PROTOCOL_FIELDS,
    *SEND_LIMIT_FIELDS,
    "forward_to",
    "forward_keep_copy",
)


def maildir_of(domain_name: str, local_part: str) -> str:
    """Where a mailbox's mail lives, relative to the mail store: ``<domain>/<local part>/``.

    The one home of the layout in Python; the lookup views build the same in SQL for Dovecot
    (``mailserver.lookup``; ``tests/mailserver/test_lookup_views.py`` holds them equal).
    """
    return f"{domain_name}/{local_part}/"


def hash_policy() -> passwords.HashPolicy:
    return passwords.HashPolicy(
        scheme=settings.MAIL_PASSWORD_SCHEME,
        argon2_memory_kib=settings.MAIL_ARGON2_MEMORY_KIB,
        argon2_time_cost=settings.MAIL_ARGON2_TIME_COST,
        bcrypt_rounds=settings.MAIL_BCRYPT_ROUNDS,
        sha512_rounds=settings.MAIL_SHA512_ROUNDS,
    )


class MailboxQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        from mailadmin.permissions import visible_mailbox_filter

        return self.filter(visible_mailbox_filter(user))

    def totals_by_domain(self, domains) -> dict:
        """{domain id: {"mailboxes", "usage_bytes", "quota_bytes", "unlimited" (quota 0)}} of the
        mailboxes of ``domains`` (ids, Domain objects or a queryset of them): one row per domain, read
        from the totals the database keeps (``accounts.totals``), not summed from the mailboxes."""
        ids = domains.values("pk") if isinstance(domains, models.QuerySet) else [getattr(d, "pk", d) for d in domains]
        return {row.domain_id: row.figures() for row in DomainTotals.objects.filter(domain__in=ids)}

    def search(self, term: str):
        """Mailboxes whose address, first name or last name starts with ``term``, in any case ("anna b"
        also finds Anna Berg). Prefixes, not substrings: within a domain the address part is read from
        the index on the local part, and no search reads more than the domain's own rows."""
        local, at, _ = term.lower().partition("@")
        if at:  # an address, or the start of one: its local part in full
            return self.filter(local_part=local, address__prefix=term.lower())
        found = Q(local_part__prefix=local) | Q(first_name__istartswith=term) | Q(last_name__istartswith=term)
        first, space, last = term.partition(" ")
        if space and first and last.strip():
            found |= Q(first_name__iexact=first, last_name__istartswith=last.strip())
        return self.filter(found)

    def get_by_address(self, address: str):
        """The mailbox of ``address`` (any spelling), or a ValidationError that says why not."""
        try:
            canonical = normalize_address(address)
        except AddressError as exc:
            raise ValidationError({"address": str(exc)}) from None
        try:
            return self.select_related("domain").get(address=canonical)
        except self.model.DoesNotExist:
            raise ValidationError({"address": gettext("No mailbox %(address)s.") % {"address": canonical}}) from None


class MailboxManager(BaseUserManager.from_queryset(MailboxQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        try:
            username = normalize_address(username)
        except AddressError:
            pass
        return self.get(address=username)

    def create_superuser(self, address, password=None, **extra):
        """For ``createsuperuser``: a panel-only superuser, or the mailbox if it exists."""
        from accounts import services

        return services.superuser_create(address=address, password=password, acting_user=None, origin="cli")


class Mailbox(AddressInDomain, AbstractBaseUser, PermissionsMixin):
    """A mailbox in ``domain``; ``domain`` is empty only for a panel-only account.

    ``address`` is the canonical lower-case address, unique, and the key of
    every lookup. ``password`` holds Dovecot's ``{SCHEME}hash``.
    """

    FLAG_LABELS = FLAG_LABELS

    address_taken = gettext_lazy("%(address)s already exists as a mailbox.")

    address = models.CharField(max_length=254, unique=True)
    # No index of its own: the unique (domain, local part) and the domain page's index lead with it.
    domain = models.ForeignKey(
        "domains.Domain", on_delete=models.PROTECT, related_name="mailboxes", null=True, blank=True, db_index=False
    )
    local_part = models.CharField(max_length=64)
    password = models.CharField(max_length=255)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    other_email = models.CharField("other address", max_length=254, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    quota_bytes = models.PositiveBigIntegerField(default=0, help_text="0 = unlimited")
    active = models.BooleanField(default=True)
    may_relay = models.BooleanField(default=True, help_text="May send to other domains (SMTP AUTH).")
    filtering = models.BooleanField(default=True, help_text="Virus and spam checks on incoming mail.")
    allow_imap = models.BooleanField("IMAP", default=True, help_text="Mail programs may read mail over IMAP.")
    allow_pop3 = models.BooleanField("POP3", default=True, help_text="Mail programs may download mail over POP3.")
    allow_smtp = models.BooleanField(
        "SMTP submission", default=True, help_text="Mail programs may send mail with SMTP AUTH."
    )
    allow_sieve = models.BooleanField("ManageSieve", default=True, help_text="Mail programs may manage filters.")
    # Raised to end every panel session of the account at once (Django checks the session's hash
    # against get_session_auth_hash on every request): when it must now use a second factor it has
    # not set up (domains.services.end_sessions_without_second_factor).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    max_sent_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages it may send an hour (SMTP AUTH); empty: the domain's; 0: no limit"
    )
    max_recipients_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text="Recipients it may send to an hour; empty: the domain's; 0: no limit"
    )
    # Forwarding: canonical addresses separated by ", " (as Alias.destinations), "" = none.
    forward_to = models.TextField(blank=True, default="")
    forward_keep_copy = models.BooleanField(default=True, help_text="Forwarded mail also stays in the mailbox.")
    # Filled in by the usage job that reads the mail store.
    over_quota = models.BooleanField(default=False)
    usage_bytes = models.BigIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    inbox_changed_at = models.DateTimeField(null=True, blank=True)
    usage_updated_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = MailboxManager()

    USERNAME_FIELD = "address"
    EMAIL_FIELD = "address"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="mailbox_unique_local_part"),
            models.CheckConstraint(condition=~Q(local_part=""), name="mailbox_local_part_not_empty"),
            models.CheckConstraint(condition=Q(usage_bytes__gte=0), name="mailbox_usage_not_negative"),
        ]

    def __str__(self):
        return self.address

    def _get_session_auth_hash(self, secret=None):
        """Django's hash of the password, and of the session epoch once it was raised (epoch 0 gives
        Django's own value, so sessions made before the epoch existed stay valid)."""
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "mailadmin.Mailbox.get_session_auth_hash",
            f"{self.password}|{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_active(self) -> bool:
        """An inactive mailbox cannot log in to the panel either."""
        return self.active

    @property
    def has_mailbox(self) -> bool:
        return self.domain_id is not None

    @property
    def maildir(self) -> str:
        """Where the mail lives, relative to the mail store (derived, never typed)."""
        return maildir_of(self.domain.name, self.local_part) if self.domain_id else ""

    # --- forwarding ----------------------------------------------------------

    MAX_FORWARD_DESTINATIONS = 20

    @property
    def forward_list(self) -> list[str]:
        return [d for d in self.forward_to.split(", ") if d]

    def set_forwarding(self, destinations, *, keep_copy: bool) -> None:
        """Parse and store where the mail goes on (list or text; empty: no forwarding); ValidationError."""
        items = [destinations] if isinstance(destinations, str) else list(destinations or [])
        if not any(isinstance(item, str) and item.strip() for item in items):
            self.forward_to, self.forward_keep_copy = "", True
            return
        try:
            parsed = parse_destinations(destinations, self.domain.name)
        except AddressError as exc:
            raise ValidationError({"destinations": str(exc)}) from None
        if self.address in parsed:
            raise ValidationError({"destinations": gettext("Forwarding to the mailbox itself: keep a copy instead.")})
        if len(parsed) > self.MAX_FORWARD_DESTINATIONS:
            most = self.MAX_FORWARD_DESTINATIONS
            raise ValidationError(
                {"destinations": ngettext("At most %(n)s address.", "At most %(n)s addresses.", most) % {"n": most}}
            )
        self.forward_to, self.forward_keep_copy = ", ".join(parsed), keep_copy

    def archive_request(self, *, acting_user):
        """Record that this mailbox's mail must be archived: call it in the deleting transaction.

        The mail itself is moved later by ``mailstore run`` as the mail store's owner; until then
        the address stays taken (``addresses_taken``), so a new mailbox can never see the old
        mail. A panel-only account has no mail: nothing is recorded (None).
        """
        from mailadmin.permissions import role_name

        if not self.domain_id:
            return None
        return MailboxArchive.objects.create(
            address=self.address,
            domain=self.domain,
            domain_name=self.domain.name,
            local_part=self.local_part,
            maildir=self.maildir,
            deleted_at=timezone.now(),
            deleted_by=str(acting_user) if acting_user is not None else "system",
            # the role it held decides who may restore it (its password and mail come back)
            settings={key: getattr(self, key) for key in ARCHIVED_SETTINGS} | {"role": role_name(self)},
            password=self.password,
        )

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.address

    def get_short_name(self):
        return self.first_name or self.address

    def clean_fields(self, exclude=None):
        """Derive the canonical local part and address first, so every later check sees them."""
        errors = {}
        if self.domain_id:
            try:
                self.local_part = normalize_local_part(self.local_part)
                self.address = normalize_address(f"{self.local_part}@{self.domain.name}")
            except AddressError as exc:
                errors["local_part"] = [str(exc)]
        else:
            try:
                self.address = normalize_address(self.address)
                self.local_part = self.address.split("@", 1)[0]
            except AddressError as exc:
                errors["address"] = [str(exc)]
        if self.other_email:
            try:
                self.other_email = normalize_address(self.other_email)
            except AddressError as exc:
                errors["other_email"] = [str(exc)]
        exclude = set(exclude or ()) | set(errors)
        if "local_part" in errors:
            exclude.add("address")  # its derivation failed; "blank" would only repeat the reason
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    # --- passwords: Dovecot's {SCHEME}hash, never Django's hashers ----------
    def set_password(self, raw_password):
        if raw_password is None:
            self.set_unusable_password()
            return
        self.password = passwords.hash_password(raw_password, hash_policy())
        self._password = None  # never keep the clear text on the instance

    def set_unusable_password(self):
        self.password = "!"  # noqa: S105 - the marker of "no password", never a hash

    def has_usable_password(self):
        return bool(self.password) and not self.password.startswith("!")

    def check_password(self, raw_password):
        """Verify, and re-hash with the current scheme after a successful check."""
        if not self.has_usable_password() or not passwords.verify_password(raw_password, self.password):
            return False
        if passwords.needs_rehash(self.password, hash_policy()) and self.pk:
            self.set_password(raw_password)
            type(self).objects.filter(pk=self.pk).update(password=self.password)
        return True


class MailboxArchiveQuerySet(models.QuerySet):
    def kept(self):
        """Those whose mail is still kept (not restored, not purged)."""
        return self.exclude(state__in=totals.NOT_KEPT)  # (the domains' totals count them too)

    def moving(self, addresses) -> dict[str, str]:
        """Address -> why no new mailbox may have it yet: the mail of a deleted mailbox of that
        address is still being archived, or is coming back (a new mailbox must start empty)."""
        moving = self.filter(address__in=list(addresses), state__in=["pending", "restoring"])
        return {
            address: (
                gettext(
                    "The mail of the deleted mailbox %(address)s is still being archived; create it again once "
                    "the mail store job has run (within a minute)."
                )
                if state == "pending"
                else gettext("The deleted mailbox %(address)s is being restored; it is back within a minute.")
            )
            % {"address": address}
            for address, state in moving.values_list("address", "state")
        }

    def of_deleted_domain(self, name: str):
        """Restorable ones of earlier, deleted domains called ``name`` (a superuser restores them
        explicitly into a domain: a new domain of an old name does not inherit them)."""
        return self.filter(domain__isnull=True, domain_name=name, state__in=MailboxArchive.RESTORABLE_STATES)


class MailboxArchive(models.Model):
    """The mail of a deleted mailbox, from deletion until it is purged or restored.

    Deleting a mailbox records a ``pending`` row in the same transaction; the
    mail store job (``manage.py mailstore run``, as the store's owner) moves the
    maildir to ``archive_path`` (``archived``) and deletes it once the grace
    period is over (``purged``). A restore re-creates the mailbox with its old
    settings and password hash and moves the mail back (``restoring`` until the
    job has done it, then ``restored``).
    """

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting to be archived")
        ARCHIVED = "archived", gettext_lazy("Archived")
        RESTORING = "restoring", gettext_lazy("Waiting to be restored")
        RESTORED = "restored", gettext_lazy("Restored")
        PURGED = "purged", gettext_lazy("Purged")

    address = models.CharField(max_length=254, db_index=True)
    # The domain record it was deleted from; NULL once that domain is deleted too, so a new
    # domain of the same name never sees it (a superuser may still restore it explicitly).
    domain = models.ForeignKey(
        "domains.Domain", null=True, blank=True, on_delete=models.SET_NULL, related_name="archives"
    )
    domain_name = models.CharField(max_length=253, help_text="Its domain's name (kept after that domain is deleted).")
    local_part = models.CharField(max_length=64)
    maildir = models.CharField(max_length=320, help_text="The maildir it had, relative to the mail store.")
    archive_path = models.CharField(max_length=400, blank=True, help_text="Relative to the mail store.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    deleted_at = models.DateTimeField()
    deleted_by = models.CharField(max_length=254, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it was restored or purged.")
    settings = models.JSONField(default=dict, help_text="Quota, flags and names, for a restore.")
    password = models.CharField(max_length=255, blank=True, help_text="The hash, kept until restored or purged.")
    note = models.CharField(max_length=500, blank=True, help_text="Why the last job step failed, if it did.")

    objects = MailboxArchiveQuerySet.as_manager()

    # Its mail is still where the job can find it (in place or archived): it can come back.
    RESTORABLE_STATES = (State.PENDING, State.ARCHIVED)

    class Meta:
        ordering = ["-deleted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "archived", "restoring", "restored", "purged"]),
                name="mailbox_archive_state_known",
            ),
        ]

    def __str__(self):
        return f"{self.address} deleted {self.deleted_at:%Y-%m-%d %H:%M}"

    def purge_due(self, grace_days: int | None = None):
        """When its mail is deleted: MAIL_ARCHIVE_GRACE_DAYS after the mailbox was."""
        days = settings.MAIL_ARCHIVE_GRACE_DAYS if grace_days is None else grace_days
        return self.deleted_at + timedelta(days=days)

    def restorable(self, now=None) -> bool:
        """Whether it can still be restored: its mail is kept and the grace period runs."""
        return self.state in self.RESTORABLE_STATES and (now or timezone.now()) < self.purge_due()


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job's pages are its submitter's (and superusers'): anyone else gets a 404."""
        from mailadmin.permissions import visible_job_filter

        return self.filter(visible_job_filter(user))

    def wipe_stale_passwords(self, *, older_than: timedelta) -> int:
        """Drop the generated passwords of jobs that finished longer ago than ``older_than`` and were
        never shown: clear text stays in the database no longer than that (``accounts.jobs``)."""
        cutoff = timezone.now() - older_than
        return self.filter(finished__lt=cutoff).exclude(passwords=[]).update(passwords=[])


class Job(models.Model):
    """Bulk work of the panel run by the task worker (``accounts.jobs``): who asked for what in which
    domain, how far it is (``done`` of ``total`` rows) and how it ended.

    ``params`` holds what the request checked (lines, chosen mailboxes, changes) and the submitter's
    language (the job's errors are written in it), never a password;
    ``passwords`` the generated ones, in clear, until their one showing (``accounts.jobs``)."""

    class Kind(models.TextChoices):
        CREATE = "create", gettext_lazy("Create mailboxes")
        IMPORT = "import", gettext_lazy("Import mailboxes")
        UPDATE = "update", gettext_lazy("Change mailboxes")
        DELETE = "delete", gettext_lazy("Delete mailboxes")

    class State(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Waiting for the worker")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    domain = models.ForeignKey("domains.Domain", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField()
    origin = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    written = models.JSONField(default=list, help_text="The addresses the job created, changed or deleted.")
    passwords = models.JSONField(default=list, help_text="Generated passwords until shown once, then [].")
    errors = models.JSONField(default=list)
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    shown = models.DateTimeField(null=True, blank=True, help_text="When the passwords were shown (then wiped).")

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="accounts_job_done_lte_total"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} in {self.domain} ({self.get_state_display()})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("accounts:job", args=[self.pk])

    @property
    def finished_ok(self) -> bool:
        return self.state == self.State.DONE

    @property
    def running(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator app once (``accounts.twofactor``).

    Only the code's SHA-256 is stored: the codes are drawn by the server with 80 bits of
    entropy, so a fast hash is as safe as a slow one, and a database dump does not give them
    away. A used code keeps its row (``used_at``) so the account page can say how many are left.
    """

    mailbox = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"recovery code of {self.mailbox}"


class SecurityKey(models.Model):
    """A WebAuthn security key (a USB or NFC key, a phone, a laptop's fingerprint reader) that
    stands in for the authenticator's code at the panel's login (``accounts.twofactor``): a key
    answers only for this site, so a phishing page cannot pass its answer on. Only the public key
    is stored. Added on the two-factor page once two-factor login is set up; removed with it."""

    mailbox = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_keys")
    name = models.CharField(max_length=60)
    credential_id = models.TextField()  # base64url, as the browser names it (up to 1023 bytes)
    credential_digest = models.CharField(max_length=64, unique=True)  # its SHA-256: found by it, once
    public_key = models.TextField()  # COSE, base64url
    sign_count = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]

    def __str__(self):
        return f"security key {self.name} of {self.mailbox}"


# The mail protocols an app password may be limited to, as Dovecot names the service asking
# (Exim's dovecot authenticator asks as "smtp"; ManageSieve is "sieve").
APP_PASSWORD_PROTOCOLS = ("imap", "pop3", "smtp", "sieve")


class AppPassword(models.Model):
    """A password for one mail program (``accounts.apppasswords``): drawn by the server, shown once,
    limited to chosen protocols, revoked by deleting it.

    It reads ``<key_id>-<secret>``: ``key_id`` (8 characters, stored in clear, unique) lets Dovecot
    find the one row it may be without looking at any other app password of the mailbox, and
    ``password`` holds a salted SHA-512 (Dovecot's ``{SSHA512}``) of the whole. The secret has 140
    bits of entropy, so a fast hash is as safe as a slow one and a mail program's login costs
    microseconds, not an Argon2 run. ``last_used_at`` is written by Dovecot's auth worker, at most
    every few minutes (deploy/dovecot/directory.lua).
    """

    mailbox = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(max_length=64)
    key_id = models.CharField(max_length=8, unique=True)
    password = models.CharField(max_length=255)
    imap = models.BooleanField(default=False)
    pop3 = models.BooleanField(default=False)
    smtp = models.BooleanField(default=False)
    sieve = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="app_password_name_unique")]

    def __str__(self):
        return f"app password {self.name!r} of {self.mailbox}"

    @property
    def protocols(self) -> list[str]:
        return [p for p in APP_PASSWORD_PROTOCOLS if getattr(self, p)]


class DomainTotals(models.Model):
    """A domain's figures: how many mailboxes, how many without a quota (0: unlimited), the sums of
    their usage and of their quotas, how many aliases, how many deleted mailboxes whose mail is still
    kept, and how many domain aliases point to it. Kept by database triggers in the transaction of
    every write to those rows, created and removed with the domain (``accounts.totals``); never
    written by Python. Read through ``Mailbox.objects.totals_by_domain`` and the domain's ``totals``."""

    domain = models.OneToOneField(
        "domains.Domain", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="totals"
    )  # (the domain's DELETE trigger removes the row: no constraint to order the deletes by)
    mailboxes = models.BigIntegerField(default=0)
    unlimited = models.BigIntegerField(default=0)
    usage_bytes = models.BigIntegerField(default=0)
    quota_bytes = models.BigIntegerField(default=0)
    aliases = models.BigIntegerField(default=0)
    kept_archives = models.BigIntegerField(default=0)  # deleted mailboxes whose mail is still kept
    domain_aliases = models.BigIntegerField(default=0)

    class Meta:
        db_table = "accounts_domaintotals"

    def __str__(self):
        return f"{self.domain_id}: {self.mailboxes} mailboxes"

    def figures(self) -> dict:
        return {
            "mailboxes": self.mailboxes,
            "usage_bytes": self.usage_bytes,
            "quota_bytes": self.quota_bytes,
            "unlimited": self.unlimited,
            "aliases": self.aliases,
            "kept_archives": self.kept_archives,
            "domain_aliases": self.domain_aliases,
        }


class DomainUsageDay(models.Model):
    """A domain's storage, messages and mailboxes on one day, as the usage job last measured them
    that day (one row per domain and day, kept for MAIL_USAGE_HISTORY_DAYS)."""

    domain = models.ForeignKey(
        "domains.Domain", on_delete=models.CASCADE, related_name="usage_days", db_index=False
    )  # (the unique constraint's index starts with it)
    day = models.DateField()
    usage_bytes = models.BigIntegerField(default=0)
    message_count = models.BigIntegerField(default=0)
    mailboxes = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "accounts_domainusageday"
        ordering = ["domain", "day"]
        constraints = [models.UniqueConstraint(fields=["domain", "day"], name="domain_usage_once_a_day")]

    def __str__(self):
        return f"{self.domain_id} {self.day}: {self.usage_bytes} bytes"


class MailboxUsageDay(models.Model):
    """A mailbox's storage and messages from one day on: a row only on the days they changed
    (a quiet mailbox costs nothing), the last of the day kept; the series is a step line."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.CASCADE, related_name="usage_days", db_index=False
    )  # (the unique constraint's index starts with it)
    day = models.DateField()
    usage_bytes = models.BigIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "accounts_mailboxusageday"
        ordering = ["mailbox", "day"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "day"], name="mailbox_usage_once_a_day")]

    def __str__(self):
        return f"{self.mailbox_id} {self.day}: {self.usage_bytes} bytes"


class DomainUsageHour(models.Model):
    """A domain's storage, messages and mailboxes in one hour of the last days (as DomainUsageDay,
    kept for MAIL_USAGE_HOURLY_DAYS)."""

    domain = models.ForeignKey(
        "domains.Domain", on_delete=models.CASCADE, related_name="usage_hours", db_index=False
    )  # (the unique constraint's index starts with it)
    hour = models.DateTimeField()
    usage_bytes = models.BigIntegerField(default=0)
    message_count = models.BigIntegerField(default=0)
    mailboxes = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "accounts_domainusagehour"
        ordering = ["domain", "hour"]
        constraints = [models.UniqueConstraint(fields=["domain", "hour"], name="domain_usage_once_an_hour")]

    def __str__(self):
        return f"{self.domain_id} {self.hour:%Y-%m-%d %H}h: {self.usage_bytes} bytes"


class MailboxUsageHour(models.Model):
    """A mailbox's storage and messages in the hours of the last days they changed (as
    MailboxUsageDay, kept for MAIL_USAGE_HOURLY_DAYS)."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.CASCADE, related_name="usage_hours", db_index=False
    )  # (the unique constraint's index starts with it)
    hour = models.DateTimeField()
    usage_bytes = models.BigIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "accounts_mailboxusagehour"
        ordering = ["mailbox", "hour"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "hour"], name="mailbox_usage_once_an_hour")]

    def __str__(self):
        return f"{self.mailbox_id} {self.hour:%Y-%m-%d %H}h: {self.usage_bytes} bytes"
