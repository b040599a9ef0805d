"""The lookup tables of contract version 2: what Exim and Dovecot read, one row per key.

Each table holds exactly what its source query in ``mailserver.lookup`` says, and only database
triggers write it (in the transaction of the write to the directory's own tables: services, the
bulk path, importers, ``QuerySet.update()`` and plain SQL alike). Nothing in the project writes
these models; they are models so that migrations create the tables with the directory's column
types and so that Django's test flush empties them together with the tables they mirror.
"""

from django.conf import settings
from django.db import models


class LookupDomain(models.Model):
    """``lookup_domains_v2``: a hosted domain or a domain alias, by name."""

    domain = models.CharField(max_length=253, primary_key=True)
    target = models.CharField(max_length=253)
    is_alias = models.SmallIntegerField()
    active = models.SmallIntegerField()
    logins_enabled = models.SmallIntegerField()
    domain_id = models.BigIntegerField(db_index=True)  # the hosted domain's id (the target's, for an alias)
    max_message_bytes = models.BigIntegerField(default=0)  # the hosted domain's; 0 = the server's limit
    check_blocklists = models.SmallIntegerField(default=1)  # the hosted domain's: 1 = ask the DNS blocklists
    # A relay (backup MX) domain's host ('' for a domain hosted here), port and recipient check.
    relay_host = models.CharField(max_length=253, default="")
    relay_port = models.IntegerField(default=25)
    relay_verify = models.CharField(max_length=8, default="list")
    sender_lists = models.SmallIntegerField(default=0)  # 1: the domain or one of its mailboxes has a sender list
    # Greylisting (the hosted domain's): 1 = on; the delay, the retry window and the expiry in seconds.
    greylist = models.SmallIntegerField(default=0)
    greylist_delay = models.IntegerField(default=300)
    greylist_window = models.IntegerField(default=86400)
    greylist_expiry = models.IntegerField(default=3110400)

    class Meta:
        db_table = "lookup_domains_v2"
        managed = True

    def __str__(self):
        return self.domain


class LookupAddress(models.Model):
    """``lookup_addresses_v2``: everything Exim decides about one address (a mailbox, an alias, or
    a catch-all ``@domain``), in one row. No password hash: the Exim user reads this table."""

    address = models.CharField(max_length=254, primary_key=True)
    domain_id = models.BigIntegerField(db_index=True)
    deliver = models.SmallIntegerField()  # an active mailbox of an active domain
    disabled = models.SmallIntegerField()  # a mailbox that is there but not active
    over_quota = models.SmallIntegerField()
    quota_bytes = models.BigIntegerField()
    usage_bytes = models.BigIntegerField()
    may_relay = models.SmallIntegerField()
    filtering = models.SmallIntegerField()
    forward_to = models.TextField()
    keep_copy = models.SmallIntegerField()
    alias_to = models.TextField()
    vacation_mode = models.CharField(max_length=10)
    vacation_subject = models.CharField(max_length=200)
    vacation_body = models.TextField()
    vacation_interval = models.IntegerField()
    vacation_first_day = models.DateField(null=True)
    vacation_last_day = models.DateField(null=True)
    send_limit = models.IntegerField(default=0)  # messages an hour it may send authenticated; 0: no limit
    rcpt_limit = models.IntegerField(default=0)  # recipients an hour
    vacation_language = models.CharField(max_length=10, default="")  # of the default text (vacation.Vacation)

    class Meta:
        db_table = "lookup_addresses_v2"
        managed = True

    def __str__(self):
        return self.address


class BlocklistSet(models.Model):
    """``mailserver_blocklistset``: every enabled DNS blocklist entry (policy.DnsBlocklist) in one
    value, as Exim's ``dnslists`` takes them, in its one row (id 1), and no row while none is
    enabled. Kept by triggers on the blocklists, so that the view ``lookup_blocklist_set_v2``, which
    Exim reads for every message, reads one row by its key instead of aggregating the blocklists
    each time (on MariaDB that aggregate cost the server 0.3 ms a message, more than the rest of
    the statement)."""

    id = models.SmallIntegerField(primary_key=True)
    entries = models.TextField()

    class Meta:
        db_table = "mailserver_blocklistset"
        managed = True

    def __str__(self):
        return self.entries


class LookupLogin(models.Model):
    """``lookup_logins_v2``: what Dovecot needs to log a mailbox in and deliver to it."""

    address = models.CharField(max_length=254, primary_key=True)
    domain_id = models.BigIntegerField(db_index=True)
    password = models.CharField(max_length=255)
    login_allowed = models.SmallIntegerField()
    maildir = models.CharField(max_length=600)
    quota_rule = models.CharField(max_length=64)
    # 1: the domain requires app passwords, so the main password does not log mail programs in.
    app_passwords_only = models.SmallIntegerField(default=0)
    # 1: the mailbox may log in to that protocol (Dovecot's service: imap, pop3, smtp for Exim's
    # SMTP AUTH, sieve for ManageSieve).
    imap = models.SmallIntegerField(default=1)
    pop3 = models.SmallIntegerField(default=1)
    smtp = models.SmallIntegerField(default=1)
    sieve = models.SmallIntegerField(default=1)

    class Meta:
        db_table = "lookup_logins_v2"
        managed = True

    def __str__(self):
        return self.address


class SendingState(models.Model):
    """What a mailbox has sent in the last hour after SMTP AUTH through one mail host, as that
    host's Exim ratelimit hints database held it when ``manage.py sending collect`` last read it
    there (mailserver.sending), and whether that host is refusing it for its outbound limit. Each
    host counts alone, as Exim does; the counts themselves stay Exim's."""

    mailbox = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sending_states")
    host = models.CharField(max_length=253)
    messages_per_hour = models.FloatField(default=0)
    recipients_per_hour = models.FloatField(default=0)
    limited = models.BooleanField(default=False)
    measured_at = models.DateTimeField()

    class Meta:
        db_table = "mailserver_sendingstate"
        ordering = ["host"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "host"], name="sending_state_once_per_host")]

    def __str__(self):
        return (
            f"{self.mailbox_id} at {self.host}: {self.messages_per_hour:.0f} messages, "
            f"{self.recipients_per_hour:.0f} recipients"
        )


class TrafficCount(models.Model):
    """How many messages (or recipients) of one kind one domain had in one hour, from Exim's main
    log (mailserver.traffic). Domain "*" is the whole mail host: every line counts there, also
    those of no domain of the directory (after-DATA rejections name none)."""

    KINDS = [
        ("received", "received"),
        ("delivered", "delivered locally"),
        ("relayed", "relayed out"),
        ("deferred", "deferred"),
        ("bounced", "bounced"),
        ("rejected_unknown", "rejected: unknown recipient"),
        ("rejected_greylist", "rejected: greylisted"),
        ("rejected_dnsbl", "rejected: DNS blocklist"),
        ("rejected_virus", "rejected: virus"),
        ("rejected_spam", "rejected: spam"),
        ("rejected_policy", "rejected: policy"),
    ]
    domain = models.CharField(max_length=253)
    hour = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=KINDS)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "mailserver_trafficcount"
        ordering = ["domain", "hour", "kind"]
        constraints = [models.UniqueConstraint(fields=["domain", "hour", "kind"], name="traffic_count_once")]

    def __str__(self):
        return f"{self.domain} {self.hour:%Y-%m-%d %H}h {self.kind}: {self.count}"


class TrafficParty(models.Model):
    """Messages received for a domain in one day by sender, and by recipient (its top senders and
    recipients)."""

    ROLES = [("sender", "sender"), ("recipient", "recipient")]
    domain = models.CharField(max_length=253)
    day = models.DateField()
    role = models.CharField(max_length=9, choices=ROLES)
    address = models.CharField(max_length=320)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "mailserver_trafficparty"
        ordering = ["domain", "day", "role", "-count"]
        constraints = [models.UniqueConstraint(fields=["domain", "day", "role", "address"], name="traffic_party_once")]

    def __str__(self):
        return f"{self.domain} {self.day} {self.role} {self.address}: {self.count}"


class LogCursor(models.Model):
    """How far ``traffic collect`` has read a log file: its inode and the offset after the last
    whole line counted (written in the transaction of the counts, so no line counts twice), and
    the senders of messages received but not yet completed (what their deliveries count under)."""

    host = models.CharField(max_length=253)  # each mail host reads its own log
    path = models.CharField(max_length=1000)
    inode = models.BigIntegerField(default=0)
    offset = models.BigIntegerField(default=0)
    pending = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "mailserver_logcursor"
        constraints = [models.UniqueConstraint(fields=["host", "path"], name="log_cursor_once")]

    def __str__(self):
        return f"{self.host}:{self.path} (inode {self.inode}) at {self.offset}"
