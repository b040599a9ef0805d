"""manage.py dkim enable|rotate|disable|show|install|purge: DKIM signing keys of the domains."""

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import dkim
from domains.services import get_domain
from mailadmin.cli import VerbCommand


def key_data(key) -> dict:
    return {
        "selector": key.selector,
        "algorithm": key.algorithm,
        "signing": key.signing,
        "record_name": key.record_name,
        "record": key.record_text,
        "retired_at": key.retired_at,
    }


class Command(VerbCommand):
    help = gettext_lazy("DKIM keys: one RSA 2048 and one Ed25519 key sign each enabled domain's outgoing mail.")
    verbs = {
        "enable": gettext_lazy("make keys for a domain (if it has none signing)"),
        "rotate": gettext_lazy("new keys sign from now on; the old ones stay published for the grace period"),
        "disable": gettext_lazy("stop signing (the keys stay published for the grace period)"),
        "show": gettext_lazy("the DNS records (TXT) of a domain's published keys"),
        "install": gettext_lazy("write the signing keys to DIR for Exim (run as root or the key owner)"),
        "purge": gettext_lazy("delete the retired keys past their grace period"),
    }

    def args_enable(self, parser):
        parser.add_argument("domain")

    args_rotate = args_disable = args_show = args_enable

    def args_install(self, parser):
        parser.add_argument("directory", nargs="?", help=_("default: MAIL_DKIM_DIRECTORY"))
        parser.add_argument("--group", help=_("the group Exim runs as (Debian: Debian-exim)"))

    def verb_enable(self, options):
        domain = get_domain(options["domain"])
        return [key_data(k) for k in dkim.dkim_enable(origin="cli", acting_user=None, domain=domain)]

    def verb_rotate(self, options):
        domain = get_domain(options["domain"])
        return [key_data(k) for k in dkim.dkim_rotate(origin="cli", acting_user=None, domain=domain)]

    def verb_disable(self, options):
        dkim.dkim_disable(origin="cli", acting_user=None, domain=get_domain(options["domain"]))

    def verb_show(self, options):
        return [key_data(k) for k in dkim.published_keys(get_domain(options["domain"]))]

    def verb_install(self, options):
        from django.conf import settings

        directory = Path(options["directory"] or settings.MAIL_DKIM_DIRECTORY)
        return dkim.install(directory, group=options["group"])

    def verb_purge(self, options):
        return {"deleted": dkim.dkim_purge()}
