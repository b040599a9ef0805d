"""Forms of one alias (forwarder or catch-all)."""

from django import forms
from django.core.exceptions import ValidationError

from mailadmin.forms import BulkLinesField, MultiLineField, SingleLineField


class AliasForm(forms.Form):
    local_part = SingleLineField(
        required=False,
        max_length=64,
        label="Name",
        help_text="The part before the @; empty makes the domain's catch-all.",
    )
    destinations = MultiLineField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Addresses separated by commas, spaces or lines; a bare name is in this domain.",
    )
    active = forms.BooleanField(required=False, initial=True)


class DestinationsForm(forms.Form):
    destinations = MultiLineField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Addresses separated by commas, spaces or lines; a bare name is in this domain.",
    )


class BulkAliasForm(forms.Form):
    """Lines of ``alias dest[,dest...]``; ``@`` for the alias names the catch-all."""

    lines = BulkLinesField(
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="One alias a line: name destination[,destination...] "
        "(a bare name is in this domain; @ is the catch-all)",
    )

    def clean_lines(self):
        rows, errors = [], []
        for number, line in self.cleaned_data["lines"]:
            name, _, destinations = line.strip().partition(" ")
            if not destinations.strip():
                errors.append(f"Line {number}: give the alias, a space, then its destinations.")
                continue
            rows.append({"line": number, "local_part": "" if name == "@" else name, "destinations": destinations})
        if errors:
            raise ValidationError(errors)
        if not rows:
            raise ValidationError("Give at least one line.")
        return rows
