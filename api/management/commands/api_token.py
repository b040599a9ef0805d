"""manage.py api_token list|revoke: every account's API tokens, for the operator (a leaked token)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api import tokens
from api.models import ApiToken
from mailadmin.cli import VerbCommand


class Command(VerbCommand):
    help = gettext_lazy(
        "List every account's API tokens, or revoke one (tokens are made by their owners in the panel)."
    )
    verbs = {
        "list": gettext_lazy("list API tokens (never the tokens themselves): id, owner, name, scope, expiry, last use"),
        "revoke": gettext_lazy("revoke the token of that id: refused from its next request"),
    }

    def args_list(self, parser):
        parser.add_argument("--owner", help=_("only the tokens of this address"))

    def verb_list(self, options):
        found = ApiToken.objects.select_related("owner").prefetch_related("domains").order_by("owner__address", "name")
        if options["owner"]:
            found = found.filter(owner__address=options["owner"].strip().lower())
        return [
            {
                "id": token.pk,
                "owner": token.owner.address,
                "name": token.name,
                "access": "read-only" if token.read_only else "read-write",
                "domains": "all" if token.all_domains else ",".join(sorted(d.name for d in token.domains.all())),
                "expires": token.expires_at,
                "last_used": token.last_used_at,
            }
            for token in found
        ]

    def args_revoke(self, parser):
        parser.add_argument("id", type=int)

    def verb_revoke(self, options):
        token = ApiToken.objects.select_related("owner").filter(pk=options["id"]).first()
        if token is None:
            raise ValidationError(_("No API token has the id %(id)s.") % {"id": options["id"]})
        tokens.revoke(acting_user=None, token=token, origin="cli")
        return {"revoked": token.name, "owner": token.owner.address}
