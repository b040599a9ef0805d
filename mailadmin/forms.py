"""Form fields shared by the panel's apps: text that is safe to store and to put in mail headers."""

from __future__ import annotations

import unicodedata

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mailadmin import permissions
from mailadmin.lib.numbers import NumberError, parse_int
from mailadmin.lib.sizes import SizeError, parse_size, size_input

MAX_COUNT = 10_000_000
SIZE_HELP = _("such as 500M or 2G (K, M, G, T: 1024, 1024², 1024³, 1024⁴ bytes); 0 = unlimited")


def has_control_chars(value: str, *, allow: str = "") -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allow for ch in value)


class SingleLineField(forms.CharField):
    """One line of text: no control characters at all (so no CR/LF header injection)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value and has_control_chars(value):
            raise ValidationError(_("Use a single line without control characters."), code="control")
        return value


class MultiLineField(forms.CharField):
    """Lines of text: tabs and line breaks allowed, no other control characters."""

    widget = forms.Textarea

    def to_python(self, value):
        value = super().to_python(value)
        if value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            if has_control_chars(value, allow="\n\t"):
                raise ValidationError(_("The text cannot contain control characters."), code="control")
        return value


MAX_BULK_LINES = 1000


class BulkLinesField(MultiLineField):
    """The lines of a bulk submission (mailboxes, aliases): at most ``MAX_BULK_LINES`` at once.

    Cleans to the list of ``(line number, line)`` pairs that are not blank.
    """

    def clean(self, value):
        text = super().clean(value)
        lines = text.split("\n") if text else []
        if len(lines) > MAX_BULK_LINES:
            raise ValidationError(_("At most %(n)s lines at once.") % {"n": MAX_BULK_LINES}, code="too_many")
        return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]


class WholeNumberField(forms.IntegerField):
    """IntegerField that takes the digits 0-9 only (``mailadmin.lib.numbers``).

    Django's own runs ``int()``, which also takes full-width and Arabic-Indic digits and
    underscores. Every number field of the panel's forms is one of these.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_int(str(value))
        except NumberError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class SizeField(forms.Field):
    """A size in bytes, written as people write sizes (``mailadmin.lib.sizes``: 500M, 1.5G; 0)."""

    widget = forms.TextInput

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", SIZE_HELP)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": "40", "placeholder": "500M"}

    def prepare_value(self, value):
        return size_input(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_size(str(value)[:100], bare="refuse")
        except SizeError as exc:
            raise ValidationError(str(exc), code="invalid") from None


def quota_field(**kwargs) -> SizeField:
    return SizeField(**kwargs)


def hourly_limit_field(**kwargs) -> WholeNumberField:
    """What a mailbox may send an hour: empty for its domain's default, 0 for no limit."""
    kwargs.setdefault("help_text", _("Empty: the domain's default. 0: no limit."))
    return WholeNumberField(required=False, min_value=0, max_value=MAX_COUNT, **kwargs)


def count_field(**kwargs) -> WholeNumberField:
    kwargs.setdefault("help_text", _("0 = unlimited"))
    return WholeNumberField(min_value=0, max_value=MAX_COUNT, **kwargs)


class SearchForm(forms.Form):
    q = SingleLineField(required=False, max_length=100, label=_("Search"))

    def term(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


MAX_ID = 2**63 - 1


class IdChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField that refuses ids no database column can hold, before the query."""

    widget = forms.MultipleHiddenInput

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            try:
                parse_int(text, minimum=1, maximum=MAX_ID)
            except NumberError:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": text[:20]}
                ) from None
        return super()._check_values(value)


class LoginForm(AuthenticationForm):
    username = SingleLineField(
        label=_("Mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def confirm_login_allowed(self, user):
        """After the right password: an end user of a domain that is off, or whose logins are off, is told so."""
        super().confirm_login_allowed(user)
        if not permissions.can_log_in(user):
            raise ValidationError(
                _("Logins for the mailboxes of %(domain)s are switched off; ask its administrator."),
                code="domain_logins_off",
                params={"domain": user.domain.display_name},
            )


class SecondFactorForm(forms.Form):
    """A code from the authenticator app (six digits) or a recovery code (accounts/twofactor.py)."""

    code = SingleLineField(
        label=_("Code"),
        max_length=64,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
    )


class SecurityKeyForm(forms.Form):
    """A security key to add: its name, and (filled in by the page's script) the key's answer."""

    name = SingleLineField(label=_("Name of the key"), max_length=60, help_text=_("Such as: blue USB key, laptop."))
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20000, required=False)


class SecurityKeyLoginForm(forms.Form):
    """The answer of a security key at the login's second step (the page's script fills it in)."""

    credential = forms.CharField(widget=forms.HiddenInput, max_length=20000, required=False)
