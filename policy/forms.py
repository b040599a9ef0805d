"""The forms that add an entry to a sender list, a DNS blocklist, and greylisting's allow list."""

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


class GreylistAllowForm(forms.Form):
    pattern = SingleLineField(
        max_length=255,
        label="Client network or sender domain",
        help_text="A client network (192.0.2.0/24, 2001:db8::/32), a sender domain (example.com) "
        "or all its subdomains (*.example.com).",
    )
    note = SingleLineField(max_length=200, required=False, help_text="Why it is on the list.")


class BlocklistForm(forms.Form):
    """A blocklist's name, answers and switch; its zone only when it is added."""

    zone = SingleLineField(max_length=200, help_text="The list's DNS zone, such as zen.spamhaus.org.")
    name = SingleLineField(max_length=100, help_text="Named in the refusal, such as Spamhaus ZEN.")
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        label="Answers that mean listed",
        help_text="One per line: an address or a range, and what it means, such as "
        "127.0.0.2 spam source, or 127.0.0.4-127.0.0.7 exploited host. Other answers are not a listing.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Checked")

    def __init__(self, *args, zone_given=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not zone_given:
            del self.fields["zone"]
