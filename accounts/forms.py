"""Forms of the mailbox pages: login, passwords, one mailbox, bulk work and CSV."""

from __future__ import annotations

import csv
import io
import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import FLAG_FIELDS, PROFILE_FIELDS
from accounts.services import check_password_policy
from mailadmin.forms import (
    BulkLinesField,
    IdChoiceField,
    MultiLineField,
    SingleLineField,
    has_control_chars,
    hourly_limit_field,
    quota_field,
)
from mailadmin.lib.sizes import SizeError, parse_size

# Each new mailbox costs one password hash (~0.25 s with the default Argon2 cost), hashed by a job
# outside the request (accounts.jobs); one submission creates at most this many, larger imports
# belong to the command line (mailbox add-many).
MAX_BULK_MAILBOXES = 1000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
FLAG_CHOICES = [("", _("unchanged")), ("on", _("on")), ("off", _("off"))]
CSV_COLUMNS = ("name", "quota_bytes", *PROFILE_FIELDS, *FLAG_FIELDS)


class ProfileFields(forms.Form):
    first_name = SingleLineField(label=_("First name"), required=False, max_length=150)
    last_name = SingleLineField(required=False, max_length=150, label=_("Surname"))
    phone = SingleLineField(label=_("Phone"), required=False, max_length=50)
    other_email = SingleLineField(required=False, max_length=254, label=_("Other address"))
    notes = MultiLineField(label=_("Notes"), required=False, max_length=2000)


class MailboxForm(ProfileFields):
    """Change one mailbox: names, quota and flags."""

    quota_bytes = quota_field(label=_("Quota"))
    active = forms.BooleanField(label=_("Active"), required=False)
    may_relay = forms.BooleanField(
        required=False, label=_("May relay"), help_text=_("Send to other domains (SMTP AUTH).")
    )
    filtering = forms.BooleanField(
        label=_("Filtering"), required=False, help_text=_("Virus and spam checks on incoming mail.")
    )
    allow_imap = forms.BooleanField(
        required=False, label=_("IMAP"), help_text=_("Mail programs may read mail over IMAP.")
    )
    allow_pop3 = forms.BooleanField(
        required=False, label=_("POP3"), help_text=_("Mail programs may download over POP3.")
    )
    allow_smtp = forms.BooleanField(
        required=False, label=_("SMTP submission"), help_text=_("Mail programs may send mail (SMTP AUTH).")
    )
    allow_sieve = forms.BooleanField(
        required=False, label=_("ManageSieve"), help_text=_("Mail programs may manage filters.")
    )
    max_sent_per_hour = hourly_limit_field(label=_("Messages it may send an hour"))
    max_recipients_per_hour = hourly_limit_field(label=_("Recipients it may send to an hour"))


class MailboxCreateForm(ProfileFields):
    local_part = SingleLineField(max_length=64, label=_("Name"), help_text=_("The part before the @."))
    quota_bytes = quota_field(
        label=_("Quota"), required=False, help_text=_("such as 500M or 2G; empty = the domain's default, 0 = unlimited")
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to generate one (shown once)."),
    )


class AppPasswordForm(forms.Form):
    """A new app password: its name and the protocols it may log in to (checked by the service)."""

    name = SingleLineField(
        max_length=64,
        label=_("Name"),
        help_text=_("The program or device it is for, e.g. “Thunderbird at home” or “phone”."),
    )
    protocols = forms.MultipleChoiceField(
        choices=[
            ("imap", _("IMAP (reading mail)")),
            ("pop3", _("POP3 (downloading mail)")),
            ("smtp", _("SMTP (sending mail)")),
            ("sieve", _("ManageSieve (mail filters)")),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["imap", "smtp"],
        label=_("May log in to"),
    )


class OwnPasswordForm(forms.Form):
    """An end user's own password: the current one first, then Django's validators."""

    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # (Django's validators' own texts, in the page's language: made when the form is shown)
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise ValidationError(_("Your current password is not right."), code="password_incorrect")
        return password

    def clean(self):
        data = super().clean()
        new, again = data.get("new_password"), data.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", _("The two new passwords differ."))
        elif new:
            try:
                check_password_policy(new, self.user)  # early feedback: the service checks it again
            except ValidationError as exc:
                self.add_error("new_password", exc.message_dict["password"])
        return data


class PasswordResetForm(forms.Form):
    """An administrator sets (or generates) another mailbox's password."""

    password = forms.CharField(
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label=_("New password"),
        help_text=_("Leave empty to generate one (shown once)."),
    )

    def __init__(self, user=None, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


def parse_quota(text: str, label: str, *, bare: str = "refuse") -> int | None:
    """A quota cell of a bulk line or CSV row in bytes: empty is None (the domain's default)."""
    if not text.strip():
        return None
    try:
        return parse_size(text, bare=bare)
    except SizeError as exc:
        raise ValidationError(_("%(field)s: %(message)s") % {"field": label, "message": exc}) from None


def _profile(cells: list[str]) -> dict:
    keys = PROFILE_FIELDS
    limits = (150, 150, 50, 254, 2000)
    row = {}
    for key, limit, value in zip(keys, limits, cells, strict=False):
        value = value.strip()
        if len(value) > limit:
            raise ValidationError(
                _("%(column)s is longer than %(limit)s characters") % {"column": key.replace("_", " "), "limit": limit}
            )
        if value:
            row[key] = value
    return row


def mailbox_line_cells(line: str) -> list[str]:
    """The cells of one bulk line (CSV quoting allowed); ValidationError when it cannot be read."""
    try:
        return next(csv.reader([line]))
    except csv.Error as exc:
        raise ValidationError(str(exc)) from None


def mailbox_row(number: int, cells: list[str]) -> dict:
    """A bulk-path row from the cells ``name[,quota,first name,surname,phone,other address,notes]``:
    the one reading of the panel's bulk lines (``BulkMailboxForm``, ``mailbox add-many``)."""
    if len(cells) > 7:
        raise ValidationError(_("too many fields (at most 7)"))
    row = {
        "line": number,
        "local_part": cells[0].strip(),
        "quota_bytes": parse_quota(cells[1], "quota") if len(cells) > 1 else None,
    }
    row.update(_profile(cells[2:]))
    return row


def _line_error(number: int, messages: list[str]) -> str:
    """The error of one bulk line or CSV row, naming its line."""
    return _("Line %(number)s: %(errors)s") % {"number": number, "errors": "; ".join(messages)}


def parse_mailbox_lines(numbered_lines) -> tuple[list[dict], list[str]]:
    """(rows, errors) of ``(number, line)`` pairs; each error names its line."""
    rows, errors = [], []
    for number, line in numbered_lines:
        try:
            rows.append(mailbox_row(number, mailbox_line_cells(line)))
        except ValidationError as exc:
            errors.append(_line_error(number, exc.messages))
    return rows, errors


class BulkMailboxForm(forms.Form):
    """Lines of ``name[,quota,first name,surname,phone,other address,notes]`` (quota: 500M, 2G...)."""

    lines = BulkLinesField(
        label=_("Lines"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=_("One mailbox a line: name[,quota such as 500M or 2G,first name,surname,phone,other address,notes]"),
    )

    def clean_lines(self):
        rows, errors = parse_mailbox_lines(self.cleaned_data["lines"])
        if errors:
            raise ValidationError(errors)
        if not rows:
            raise ValidationError(_("Give at least one line."))
        if len(rows) > MAX_BULK_MAILBOXES:
            raise ValidationError(_("At most %(n)s mailboxes at once.") % {"n": MAX_BULK_MAILBOXES})
        return rows


class MailboxChoiceForm(forms.Form):
    """Checkboxes of mailboxes in one domain."""

    mailboxes = IdChoiceField(label=_("Mailboxes"), queryset=None)

    def __init__(self, domain, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Mailbox

        self.fields["mailboxes"].queryset = Mailbox.objects.filter(domain=domain).select_related("domain")
        self.fields["mailboxes"].error_messages["required"] = _("Tick at least one mailbox.")


class BulkMailboxUpdateForm(MailboxChoiceForm):
    active = forms.ChoiceField(label=_("Active"), choices=FLAG_CHOICES, required=False)
    may_relay = forms.ChoiceField(choices=FLAG_CHOICES, required=False, label=_("May relay"))
    filtering = forms.ChoiceField(label=_("Filtering"), choices=FLAG_CHOICES, required=False)
    quota_bytes = quota_field(required=False, label=_("Quota"), help_text=_("such as 500M or 2G; empty = unchanged"))

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {key: data[key] == "on" for key in FLAG_FIELDS if data.get(key)}
        if data.get("quota_bytes") is not None:
            changes["quota_bytes"] = data["quota_bytes"]
        return changes

    def clean(self):
        data = super().clean()
        if not self.errors and not self.changes():
            raise ValidationError(_("Choose at least one change."))
        return data


def _csv_quota(cells: dict) -> int | None:
    """quota_bytes (bytes, as the export writes it), or an older file's quota_mb (MB)."""
    if cells.get("quota_bytes", "").strip():
        return parse_quota(cells["quota_bytes"], "quota_bytes", bare="bytes")
    legacy = cells.get("quota_mb", "").strip()
    return parse_quota(f"{legacy}M" if legacy.isdigit() else legacy, "quota_mb")


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=format_lazy(_("Columns: {columns} (a header line first)."), columns=", ".join(CSV_COLUMNS)),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(_("The file is larger than 2 MB."))
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text.")) from None
        if has_control_chars(text, allow="\r\n\t"):
            raise ValidationError(_("The file contains control characters."))
        return text

    def rows(self) -> list[dict]:
        """The rows as the bulk service takes them; raises ValidationError per line."""
        reader = csv.DictReader(io.StringIO(self.cleaned_data["file"]))
        missing = {"name"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationError(_("The first line must name the columns, with at least 'name'."))
        rows, errors = [], []
        try:
            for record in reader:
                line = reader.line_num
                if len(rows) + len(errors) >= MAX_BULK_MAILBOXES:
                    raise ValidationError(_("At most %(n)s rows at once.") % {"n": MAX_BULK_MAILBOXES})
                try:
                    rows.append(self._row(record, line))
                except ValidationError as exc:
                    errors.append(_line_error(line, exc.messages))
        except csv.Error as exc:
            errors.append(_line_error(reader.line_num, [str(exc)]))
        if errors:
            raise ValidationError(errors)
        if not rows:
            raise ValidationError(_("The file has no rows."))
        return rows

    @staticmethod
    def _row(record: dict, line: int) -> dict:
        if None in record:
            raise ValidationError(_("more cells than columns"))
        cells = {key: unneutralise(value or "") for key, value in record.items() if key}
        row = {
            "line": line,
            "local_part": cells.get("name", "").strip(),
            "quota_bytes": _csv_quota(cells),
        }
        row.update(_profile([cells.get(k, "") for k in PROFILE_FIELDS]))
        for key in FLAG_FIELDS:
            value = cells.get(key, "").strip().lower()
            if value in ("1", "true", "yes", "on"):
                row[key] = True
            elif value in ("0", "false", "no", "off"):
                row[key] = False
            elif value:
                raise ValidationError(_("%(column)s is yes or no") % {"column": key})
        return row


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet may read ``text`` as a formula: it starts with one of FORMULA_STARTS once
    look-alikes are folded (NFKC: full-width ＝＋－＠, small ﹦﹢﹣﹫, super- and subscript signs) and
    leading spaces trimmed (as an import with "trim spaces" does; NFKC makes no-break spaces plain)."""
    return unicodedata.normalize("NFKC", text).lstrip(" ").startswith(FORMULA_STARTS)


def neutralise(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if starts_formula(text) else text


def unneutralise(value: str) -> str:
    return value[1:] if value.startswith("'") and starts_formula(value[1:]) else value


class ForwardingForm(forms.Form):
    destinations = MultiLineField(
        required=False,
        max_length=5000,
        label=_("Forward to"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "Addresses separated by commas, spaces or lines (a bare name is in the mailbox's domain); "
            "empty: no forwarding."
        ),
    )
    keep_copy = forms.BooleanField(required=False, initial=True, label=_("Keep a copy in the mailbox"))

    @classmethod
    def initial_for(cls, mailbox) -> dict:
        return {"destinations": "\n".join(mailbox.forward_list), "keep_copy": mailbox.forward_keep_copy}
