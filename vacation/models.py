"""Vacation (out-of-office) replies, one per mailbox."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MAX_INTERVAL_DAYS = 365


def default_text(language: str, *, subject: str | None = None, body: str | None = None) -> tuple[str, str]:
    """The server's default reply (settings.VACATION_DEFAULT_SUBJECT and _BODY, or the texts given)
    in ``language`` (empty: the server's own): the one home of this rule, for the panel's page and
    for the Exim configuration, which holds the text of every language (mailserver.config)."""
    texts = (settings.VACATION_DEFAULT_SUBJECT if subject is None else subject,
             settings.VACATION_DEFAULT_BODY if body is None else body)  # fmt: skip
    with translation.override(language or settings.LANGUAGE_CODE):
        return tuple(translation.gettext(t) if t else "" for t in texts)  # (gettext("") is the catalogue's header)


def validate_language(code: str) -> None:
    """A language of the panel (settings.LANGUAGES), or empty for the server's."""
    if code and code not in dict(settings.LANGUAGES):
        raise ValidationError(
            _("%(code)s is not a language of this server (%(known)s)."),
            params={"code": code, "known": ", ".join(dict(settings.LANGUAGES))},
        )


class Vacation(models.Model):
    class Mode(models.TextChoices):
        OFF = "off", _("Off")
        DEFAULT = "default", _("Default text")
        CUSTOM = "custom", _("Custom text")

    mailbox = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vacation")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OFF)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, max_length=10000)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    interval_days = models.PositiveSmallIntegerField(default=7, help_text="One reply per sender per this many days.")
    # The language of the default text (one of settings.LANGUAGES; empty: the server's,
    # LANGUAGE_CODE): whoever last set the reply, in the language they used (the panel's, the
    # API's Accept-Language, the command line's --language). Exim picks the text by it.
    language = models.CharField(max_length=10, blank=True, validators=[validate_language])
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__isnull=True) | Q(last_day__isnull=True) | Q(first_day__lte=models.F("last_day")),
                name="vacation_dates_in_order",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1) & Q(interval_days__lte=MAX_INTERVAL_DAYS),
                name="vacation_interval_range",
                violation_error_message=format_lazy(
                    _("The reply interval is between 1 and {days} days."), days=MAX_INTERVAL_DAYS
                ),
            ),
            models.CheckConstraint(condition=Q(mode__in=["off", "default", "custom"]), name="vacation_mode_known"),
        ]

    def __str__(self):
        return f"vacation of {self.mailbox}"

    def set_mode(self, mode: str, *, subject: str | None = None, body: str | None = None) -> None:
        """The rules of switching: off keeps a custom text for next time, default clears it, custom
        takes the text given (None keeps the one it has). Raises ValidationError for an unknown mode."""
        if mode not in self.Mode.values:
            raise ValidationError(
                {"mode": gettext("Mode is one of: %(modes)s.") % {"modes": ", ".join(self.Mode.values)}}
            )
        self.mode = mode
        if mode == self.Mode.DEFAULT:
            self.subject, self.body = "", ""
        elif mode == self.Mode.CUSTOM:
            self.subject = self.subject if subject is None else subject
            self.body = self.body if body is None else body

    def clean(self):
        if any(ch in self.subject for ch in "\r\n\x00"):
            raise ValidationError({"subject": gettext("The subject must be a single line.")})
        if any(ord(ch) < 32 and ch not in "\t" for ch in self.subject):
            raise ValidationError({"subject": gettext("The subject cannot contain control characters.")})
        if "\x00" in self.body:
            raise ValidationError({"body": gettext("The text cannot contain NUL characters.")})
        if self.mode == self.Mode.CUSTOM and not (self.subject.strip() and self.body.strip()):
            raise ValidationError(gettext("A custom reply needs a subject and a text."))
