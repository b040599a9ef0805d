"""The panel's form for a new API token."""

from django import forms
from django.utils.translation import gettext_lazy as _

from api import tokens
from domains.models import Domain
from mailadmin.forms import IdChoiceField, SingleLineField


class TokenForm(forms.Form):
    name = SingleLineField(max_length=64, label=_("Name"), help_text=_("What uses it, e.g. “billing sync”."))
    read_only = forms.BooleanField(
        required=False, initial=True, label=_("Read-only"), help_text=_("Only GET requests.")
    )
    scope = forms.ChoiceField(
        choices=[("all", _("All my domains")), ("chosen", _("Only the domains ticked below"))],
        initial="all",
        widget=forms.RadioSelect,
        label=_("Domains"),
    )
    domains = IdChoiceField(
        queryset=Domain.objects.none(), widget=forms.CheckboxSelectMultiple, required=False, label=_("Domains")
    )
    days = forms.IntegerField(
        min_value=1, max_value=tokens.MAX_DAYS, initial=tokens.DEFAULT_DAYS, label=_("Valid for (days)")
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domains"].queryset = Domain.objects.visible_to(owner).order_by("name")
        if not self.fields["domains"].queryset.exists():
            del self.fields["domains"]
            del self.fields["scope"]

    def chosen_domains(self):
        """None for all of the owner's domains, else the ticked ones (the service checks them)."""
        if self.cleaned_data.get("scope", "all") == "all":
            return None
        return list(self.cleaned_data.get("domains") or [])
