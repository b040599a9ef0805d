"""The form that adds an entry to a sender list."""

from django import forms

from mailadmin.forms import SingleLineField
from policy.models import SenderRule


class SenderRuleForm(forms.Form):
    action = forms.ChoiceField(
        choices=SenderRule.Action.choices,
        initial=SenderRule.Action.DENY,
        widget=forms.RadioSelect,
        label="Mail from it",
    )
    pattern = SingleLineField(
        max_length=254,
        label="Sender",
        help_text="An address (user@example.com), a whole domain (@example.com), "
        "or a client network to refuse (192.0.2.0/24, 2001:db8::/32).",
    )
