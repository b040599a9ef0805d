"""manage.py superuser grant|revoke|list: the only way to grant superuser status."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.models import Mailbox
from mailadmin.cli import VerbCommand


class Command(VerbCommand):
    help = gettext_lazy("Grant or revoke superuser status (never possible from the web).")
    verbs = {
        "grant": gettext_lazy("make ADDRESS a superuser (a panel-only account if it has no mailbox)"),
        "revoke": gettext_lazy("take superuser status away"),
        "list": gettext_lazy("list superusers"),
    }

    def args_grant(self, parser):
        parser.add_argument("address")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help=_("set the password from stdin; a new panel-only account gets a generated one"),
        )

    def args_revoke(self, parser):
        parser.add_argument("address")

    def verb_grant(self, options):
        address = options["address"].strip()
        exists = Mailbox.objects.filter(address__iexact=address).exists()
        password = self.read_secret(_("password")) if options["password_stdin"] else None
        generated = password is None and not exists
        if generated:
            password = services.generate_password(mailbox=Mailbox(address=address, local_part=address.split("@")[0]))
        user = services.superuser_create(origin="cli", address=options["address"], password=password)
        data = {"address": user.address, "superuser": True, "has_mailbox": user.has_mailbox}
        if generated:
            data["password"] = password
        return data

    def verb_revoke(self, options):
        user = services.superuser_revoke(origin="cli", address=options["address"])
        return {"address": user.address, "superuser": False}

    def verb_list(self, options):
        return [{"address": u.address, "has_mailbox": u.has_mailbox} for u in Mailbox.objects.filter(is_superuser=True)]
