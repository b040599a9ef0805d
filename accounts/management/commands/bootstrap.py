"""manage.py bootstrap: the first superuser of a new installation, its password printed once.

Does nothing when a superuser exists already (so it is safe in a start script).
"""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Mailbox
from accounts.services import generate_password, superuser_create
from mailadmin.cli import ProjectCommand, format_error


class Command(ProjectCommand):
    help = gettext_lazy(
        "Create the first superuser (a panel-only account) unless one exists, and print its password once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--address",
            default="admin@example.com",
            help=_("the superuser's login address (default admin@example.com)"),
        )

    def handle(self, *args, **options):
        if Mailbox.objects.filter(is_superuser=True).exists():
            self.stdout.write(_("A superuser exists already; log in with its address and password."))
            return
        from django.core.exceptions import ValidationError

        address = options["address"]
        password = generate_password(20, mailbox=Mailbox(address=address, local_part=address.split("@")[0]))
        try:
            user = superuser_create(origin="cli", address=address, password=password)
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        address_label, password_label = _("address:"), _("password:")
        width = max(len(address_label), len(password_label)) + 1  # the two values one under the other
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "  " + _("First superuser created. Log in with:"),
                    f"    {address_label:<{width}}{user.address}",
                    f"    {password_label:<{width}}{password}",
                    "  " + _("The password is shown only this once; change it after logging in."),
                    "",
                ]
            )
        )
