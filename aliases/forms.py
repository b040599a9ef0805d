"""Forms of one alias (forwarder or catch-all)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mailadmin.forms import BulkLinesField, MultiLineField, SingleLineField


class AliasForm(forms.Form):
    local_part = SingleLineField(
        required=False,
        max_length=64,
        label=_("Name"),
        help_text=_("The part before the @; empty makes the domain's catch-all."),
    )
    destinations = MultiLineField(
        label=_("Destinations"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Addresses separated by commas, spaces or lines; a bare name is in this domain."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class DestinationsForm(forms.Form):
    destinations = MultiLineField(
        label=_("Destinations"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Addresses separated by commas, spaces or lines; a bare name is in this domain."),
    )


class BulkAliasForm(forms.Form):
    """Lines of ``alias dest[,dest...]``; ``@`` for the alias names the catch-all."""

    lines = BulkLinesField(
        label=_("Lines"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=_(
            "One alias a line: name destination[,destination...] (a bare name is in this domain; @ is the catch-all)"
        ),
    )

    def clean_lines(self):
        rows, errors = [], []
        for number, line in self.cleaned_data["lines"]:
            name, _space, destinations = line.strip().partition(" ")
            if not destinations.strip():
                errors.append(
                    _("Line %(number)s: give the alias, a space, then its destinations.") % {"number": number}
                )
                continue
            rows.append({"line": number, "local_part": "" if name == "@" else name, "destinations": destinations})
        if errors:
            raise ValidationError(errors)
        if not rows:
            raise ValidationError(_("Give at least one line."))
        return rows
