"""manage.py mailbox add|list|show|set|passwd|delete"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import apppasswords, services, twofactor
from accounts.models import (
    APP_PASSWORD_PROTOCOLS,
    FLAG_FIELDS,
    PROFILE_FIELDS,
    PROTOCOL_FIELDS,
    SEND_LIMIT_FIELDS,
    Mailbox,
)
from domains.services import get_domain
from mailadmin.cli import VerbCommand, flag, given, size_option, whole_number
from mailadmin.forms import MAX_COUNT
from mailadmin.lib.addresses import AddressError, split_address

PROFILE, FLAGS = PROFILE_FIELDS, FLAG_FIELDS
DOMAINS_OWN = "domain"  # --max-sent-per-hour domain: back to the domain's default


def hourly_limit(text: str):
    """An argparse ``type=``: a whole number (0: no limit), or ``domain`` for the domain's default."""
    if text.strip().lower() == DOMAINS_OWN:
        return DOMAINS_OWN
    return whole_number(maximum=MAX_COUNT)(text)


def send_limits(options: dict) -> dict:
    return {
        name: None if options[name] == DOMAINS_OWN else options[name]
        for name in SEND_LIMIT_FIELDS
        if options.get(name) is not None
    }


def mailbox_data(m: Mailbox) -> dict:
    return {
        "address": m.address,
        "domain": m.domain.name if m.domain_id else None,
        "quota_bytes": m.quota_bytes,
        "active": m.active,
        "may_relay": m.may_relay,
        "filtering": m.filtering,
        "protocols": ",".join(f.removeprefix("allow_") for f in PROTOCOL_FIELDS if getattr(m, f)),
        "first_name": m.first_name,
        "last_name": m.last_name,
        "phone": m.phone,
        "other_email": m.other_email,
        "notes": m.notes,
        "maildir": m.maildir,
        "superuser": m.is_superuser,
        "over_quota": m.over_quota,
        "usage_bytes": m.usage_bytes,
        "forward_to": m.forward_list,
        "forward_keep_copy": m.forward_keep_copy,
        "max_sent_per_hour": m.max_sent_per_hour,
        "max_recipients_per_hour": m.max_recipients_per_hour,
    }


def add_field_args(parser) -> None:
    size_option(parser, "quota", "quota_bytes", _("0 = unlimited"))
    for name in ("first-name", "last-name", "phone", "other-email", "notes"):
        parser.add_argument(f"--{name}")
    flag(parser, "active", _("the mailbox receives mail and may log in"))
    flag(parser, "may-relay", _("may send to other domains after SMTP AUTH"))
    flag(parser, "filtering", _("virus and spam checks on incoming mail"))
    flag(parser, "allow-imap", _("may log in over IMAP (default: the domain's)"))
    flag(parser, "allow-pop3", _("may log in over POP3 (default: the domain's)"))
    flag(parser, "allow-smtp", _("may send with SMTP AUTH (default: the domain's)"))
    flag(parser, "allow-sieve", _("may log in to ManageSieve (default: the domain's)"))
    for name, help_text in (
        (
            "max-sent-per-hour",
            _("messages it may send an hour with SMTP AUTH; 0 = no limit, 'domain' = the domain's default"),
        ),
        (
            "max-recipients-per-hour",
            _("recipients it may send an hour with SMTP AUTH; 0 = no limit, 'domain' = the domain's default"),
        ),
    ):
        parser.add_argument(f"--{name}", type=hourly_limit, metavar="N|domain", help=help_text)


class Command(VerbCommand):
    help = gettext_lazy("Manage mailboxes.")
    verbs = {
        "add": gettext_lazy("create a mailbox"),
        "add-many": gettext_lazy("create many mailboxes of a domain from lines on stdin, all or none"),
        "list": gettext_lazy("list mailboxes"),
        "show": gettext_lazy("show one mailbox"),
        "set": gettext_lazy("change a mailbox's quota, flags or names"),
        "passwd": gettext_lazy("set a mailbox's password"),
        "forward": gettext_lazy("forward a mailbox's mail (keeping a copy unless --no-keep-copy); --off stops it"),
        "delete": gettext_lazy("delete a mailbox"),
        "two-factor": gettext_lazy(
            "show a mailbox's two-factor login for the panel; --reset removes it (a lost phone)"
        ),
        "app-password": gettext_lazy(
            "list a mailbox's app passwords; --create NAME draws one (printed once), --revoke NAME"
        ),
    }

    def args_add(self, parser):
        parser.add_argument("address")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help=_("read the password from stdin (else one is generated and printed once)"),
        )
        add_field_args(parser)

    def args_list(self, parser):
        parser.add_argument("--domain")

    def args_show(self, parser):
        parser.add_argument("address")

    def args_set(self, parser):
        parser.add_argument("address")
        add_field_args(parser)

    def args_forward(self, parser):
        parser.add_argument("address")
        parser.add_argument("destinations", nargs="*", help=_("where its mail goes on"))
        parser.add_argument("--off", action="store_true", help=_("stop forwarding"))
        flag(parser, "keep-copy", _("the mailbox keeps a copy (default yes)"))

    def verb_forward(self, options):
        if options["off"] == bool(options["destinations"]):
            raise ValidationError(_("Give the addresses to forward to, or --off (not both)."))
        mailbox = services.mailbox_set_forwarding(
            origin="cli",
            acting_user=None,
            mailbox=services.get_mailbox(options["address"]),
            destinations=options["destinations"],
            keep_copy=options["keep_copy"] is not False,
        )
        return mailbox_data(mailbox)

    def args_passwd(self, parser):
        parser.add_argument("address")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true", help=_("read the new password from stdin"))
        source.add_argument(
            "--hash-stdin",
            action="store_true",
            help=_("read an existing {SCHEME}hash from stdin (imported legacy password)"),
        )

    args_delete = args_show

    def verb_add(self, options):
        try:
            local_part, domain_name = split_address(options["address"])
        except AddressError as exc:
            raise ValidationError({"address": str(exc)}) from None
        domain = get_domain(domain_name)
        generated = not options["password_stdin"]
        fields = given(options, "quota_bytes", *PROFILE, *FLAGS, *PROTOCOL_FIELDS) | send_limits(options)
        if generated:
            names = {key: fields[key] for key in ("first_name", "last_name") if key in fields}
            password = services.generate_password_for(domain=domain, local_part=local_part, **names)
        else:
            password = self.read_secret(_("password"))
        mailbox = services.mailbox_create(
            origin="cli", acting_user=None, domain=domain, local_part=local_part, password=password, **fields
        )
        data = mailbox_data(mailbox)
        if generated:
            data["password"] = password  # shown once, never stored
        return data

    def args_add_many(self, parser):
        parser.add_argument("domain")
        parser.add_argument(
            "--given-passwords",
            action="store_true",
            help=_(
                "each line gives its password as the second cell: name,password[,quota,...] "
                "(else passwords are generated and printed once)"
            ),
        )
        parser.description = _(
            "Lines on stdin as the panel's bulk creation takes them: "
            "name[,quota such as 500M or 2G,first name,surname,phone,other address,notes] (CSV quoting allowed). "
            "Every line is checked before any is written; one bad line writes nothing and names its line."
        )

    def verb_add_many(self, options):
        import sys

        from accounts.bulk import mailbox_bulk_create
        from accounts.forms import mailbox_line_cells, mailbox_row

        domain = get_domain(options["domain"])
        rows, given_passwords, errors = [], [], []
        for number, line in enumerate(sys.stdin.read().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                cells = mailbox_line_cells(line)
                if options["given_passwords"]:
                    if len(cells) < 2 or not cells[1]:
                        raise ValidationError(_("no password (name,password[,quota,...])"))
                    given_passwords.append(cells.pop(1))
                rows.append(mailbox_row(number, cells))
            except ValidationError as exc:
                errors.append(_("Line %(number)s: %(errors)s") % {"number": number, "errors": "; ".join(exc.messages)})
        if errors:
            raise ValidationError(errors)
        if not rows:
            raise ValidationError(_("No lines on stdin."))
        created = mailbox_bulk_create(
            acting_user=None,
            domain=domain,
            rows=rows,
            origin="cli",
            passwords_given=given_passwords if options["given_passwords"] else None,
        )
        shown = not options["given_passwords"]  # generated passwords are shown once, never stored
        return [{"address": m.address, **({"password": p} if shown else {})} for m, p in created]

    def verb_list(self, options):
        mailboxes = Mailbox.objects.select_related("domain")
        if options["domain"]:
            mailboxes = mailboxes.filter(domain=get_domain(options["domain"]))
        return [mailbox_data(m) for m in mailboxes]

    def verb_show(self, options):
        return mailbox_data(services.get_mailbox(options["address"]))

    def verb_set(self, options):
        mailbox = services.get_mailbox(options["address"])
        fields = given(options, "quota_bytes", *PROFILE, *FLAGS, *PROTOCOL_FIELDS) | send_limits(options)
        if not fields:
            raise ValidationError(_("Nothing to change: give at least one option."))
        return mailbox_data(services.mailbox_update(origin="cli", acting_user=None, mailbox=mailbox, **fields))

    def verb_passwd(self, options):
        mailbox = services.get_mailbox(options["address"])
        if options["hash_stdin"]:
            services.mailbox_set_password_hash(
                origin="cli", acting_user=None, mailbox=mailbox, password_hash=self.read_secret(_("password hash"))
            )
            return {"address": mailbox.address, "password": "hash stored"}
        generated = not options["password_stdin"]
        password = services.generate_password(mailbox=mailbox) if generated else self.read_secret(_("password"))
        services.mailbox_set_password(origin="cli", acting_user=None, mailbox=mailbox, password=password)
        return {"address": mailbox.address, "password": password if generated else "changed"}

    def args_two_factor(self, parser):
        parser.add_argument("address")
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_(
                "remove its authenticator, recovery codes and security keys: its password alone logs in until it "
                "sets up another"
            ),
        )

    def verb_two_factor(self, options):
        mailbox = services.get_mailbox(options["address"])
        if options["reset"]:
            twofactor.reset(acting_user=None, mailbox=mailbox, origin="cli")
        state = twofactor.status(mailbox)
        return {
            "address": mailbox.address,
            "two_factor": "on" if state["enrolled"] else "off",
            "since": state.get("since"),
            "last_used": state.get("last_used"),
            "recovery_codes_left": state.get("codes_left"),
            "security_keys": [key.name for key in twofactor.security_keys(mailbox)],
        }

    def args_app_password(self, parser):
        parser.add_argument("address")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--create", metavar="NAME", help=_("draw a new app password of that name; printed once"))
        action.add_argument("--revoke", metavar="NAME", help=_("revoke the app password of that name"))
        parser.add_argument(
            "--protocols",
            default="imap,smtp",
            help=_("with --create: what it may log in to, comma-separated of %(protocols)s (default imap,smtp)")
            % {"protocols": ", ".join(APP_PASSWORD_PROTOCOLS)},
        )

    def verb_app_password(self, options):
        mailbox = services.get_mailbox(options["address"])
        if options["create"] is not None:
            protocols = [p.strip().lower() for p in options["protocols"].split(",") if p.strip()]
            app_password, shown = apppasswords.create(
                acting_user=None, mailbox=mailbox, name=options["create"], protocols=protocols, origin="cli"
            )
            return {"address": mailbox.address, "name": app_password.name, "password": shown, "protocols": protocols}
        if options["revoke"] is not None:
            app_password = apppasswords.get(mailbox, options["revoke"])
            apppasswords.revoke(acting_user=None, app_password=app_password, origin="cli")
            return {"address": mailbox.address, "revoked": app_password.name}
        return [
            {
                "name": app.name,
                "protocols": ",".join(app.protocols),
                "created": app.created,
                "last_used": app.last_used_at,
            }
            for app in apppasswords.of(mailbox)
        ]

    def verb_delete(self, options):
        mailbox = services.get_mailbox(options["address"])
        services.mailbox_delete(origin="cli", acting_user=None, mailbox=mailbox)
        return {"deleted": mailbox.address}
