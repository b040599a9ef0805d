"""The forms that add an entry to a sender list, a DNS blocklist, and greylisting's allow list."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mailadmin.forms import SingleLineField
from policy.models import SenderRule


class SenderRuleForm(forms.Form):
    action = forms.ChoiceField(
        choices=SenderRule.Action.choices,
        initial=SenderRule.Action.DENY,
        widget=forms.RadioSelect,
        label=_("Mail from it"),
    )
    pattern = SingleLineField(
        max_length=254,
        label=_("Sender"),
        help_text=_(
            "An address (user@example.com), a whole domain (@example.com), "
            "or a client network to refuse (192.0.2.0/24, 2001:db8::/32)."
        ),
    )


class GreylistAllowForm(forms.Form):
    pattern = SingleLineField(
        max_length=255,
        label=_("Client network or sender domain"),
        help_text=_(
            "A client network (192.0.2.0/24, 2001:db8::/32), a sender domain (example.com) "
            "or all its subdomains (*.example.com)."
        ),
    )
    note = SingleLineField(label=_("Note"), max_length=200, required=False, help_text=_("Why it is on the list."))


class BlocklistForm(forms.Form):
    """A blocklist's name, answers and switch; its zone only when it is added."""

    zone = SingleLineField(
        label=_("Zone"), max_length=200, help_text=_("The list's DNS zone, such as zen.spamhaus.org.")
    )
    name = SingleLineField(label=_("Name"), max_length=100, help_text=_("Named in the refusal, such as Spamhaus ZEN."))
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        label=_("Answers that mean listed"),
        help_text=_(
            "One per line: an address or a range, and what it means, such as "
            "127.0.0.2 spam source, or 127.0.0.4-127.0.0.7 exploited host. Other answers are not a listing."
        ),
    )
    enabled = forms.BooleanField(required=False, initial=True, label=_("Checked"))

    def __init__(self, *args, zone_given=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not zone_given:
            del self.fields["zone"]
