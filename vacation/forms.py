"""The vacation reply form (one's own, or a managed mailbox's)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mailadmin.forms import MultiLineField, SingleLineField, WholeNumberField
from vacation.models import MAX_INTERVAL_DAYS, Vacation


class VacationForm(forms.Form):
    mode = forms.ChoiceField(choices=Vacation.Mode.choices, widget=forms.RadioSelect, label=_("Reply"))
    subject = SingleLineField(required=False, max_length=200, label=_("Subject"))
    body = MultiLineField(required=False, max_length=10000, label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}))
    first_day = forms.DateField(
        required=False, label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Optional")
    )
    last_day = forms.DateField(
        required=False, label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Optional")
    )
    interval_days = WholeNumberField(
        min_value=1,
        max_value=MAX_INTERVAL_DAYS,
        label=_("Reply interval"),
        help_text=_("One reply per sender per this many days."),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day cannot be before the first day."))
        if data.get("mode") == Vacation.Mode.CUSTOM and not (
            (data.get("subject") or "").strip() and (data.get("body") or "").strip()
        ):
            raise ValidationError(_("A custom reply needs a subject and a text."))
        return data

    @classmethod
    def initial_for(cls, vacation, default_interval: int) -> dict:
        if vacation is None:
            return {"mode": Vacation.Mode.OFF, "interval_days": default_interval}
        return {
            key: getattr(vacation, key) for key in ("mode", "subject", "body", "first_day", "last_day", "interval_days")
        }
