"""Forms of the domain pages: settings, domain aliases and admin grants."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import server_message_limit
from domains.services import GRANT_FIELDS
from mailadmin.forms import IdChoiceField, SingleLineField, WholeNumberField, count_field, quota_field
from mailadmin.lib.sizes import format_size


class DomainSettingsForm(forms.Form):
    description = SingleLineField(label=_("Description"), required=False, max_length=255)
    active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Visible to the MTA: mail for it is accepted.")
    )
    logins_enabled = forms.BooleanField(
        label=_("Logins enabled"),
        required=False,
        initial=True,
        help_text=_("IMAP, POP3 and SMTP AUTH for its mailboxes."),
    )
    default_may_relay = forms.BooleanField(required=False, initial=True, label=_("New mailboxes may relay"))
    default_allow_imap = forms.BooleanField(required=False, initial=True, label=_("New mailboxes may use IMAP"))
    default_allow_pop3 = forms.BooleanField(required=False, initial=True, label=_("New mailboxes may use POP3"))
    default_allow_smtp = forms.BooleanField(required=False, initial=True, label=_("New mailboxes may send (SMTP AUTH)"))
    default_allow_sieve = forms.BooleanField(required=False, initial=True, label=_("New mailboxes may use ManageSieve"))
    users_may_forward = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Users may forward"),
        help_text=_("Users set their own mailbox's forwarding."),
    )
    forward_outside = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Forwarding outside"),
        help_text=_("Mailboxes may forward to addresses outside this server."),
    )
    require_two_factor = forms.BooleanField(
        required=False,
        label=_("Administrators use two-factor login"),
        help_text=_("Its administrators log in to the panel with an authenticator app or a recovery code."),
    )
    require_app_passwords = forms.BooleanField(
        required=False,
        label=_("Mail programs use app passwords"),
        help_text=_(
            "IMAP, POP3, SMTP and ManageSieve accept only app passwords; the main password works in the panel only."
        ),
    )
    check_blocklists = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Check DNS blocklists"),
        help_text=_("Mail to its addresses from clients on the server's DNS blocklists is refused (550)."),
    )
    greylist = forms.BooleanField(
        required=False,
        label=_("Greylisting"),
        help_text=_(
            "The first attempt of a new sender from an unknown client is told to try again later (451); "
            "real mail servers do, most spam programs do not."
        ),
    )
    greylist_delay = WholeNumberField(
        required=False,
        initial=300,
        min_value=1,
        max_value=86400,
        label=_("Greylisting delay (seconds)"),
        help_text=_("A retry is accepted after this long."),
    )
    greylist_window_hours = WholeNumberField(
        required=False,
        initial=24,
        min_value=1,
        max_value=720,
        label=_("Retry window (hours)"),
        help_text=_("A retry later than this counts as a first attempt again."),
    )
    greylist_expiry_days = WholeNumberField(
        required=False,
        initial=36,
        min_value=1,
        max_value=3650,
        label=_("Remember senders (days)"),
        help_text=_("A sender that passed is accepted at once until this long after its last message."),
    )
    relay_host = SingleLineField(
        required=False,
        max_length=253,
        label=_("Relay to host"),
        help_text=_(
            "A relay (backup MX) domain: its mail is passed to this host (its primary MX, or an internal "
            "server), which holds its mailboxes. Empty: its mailboxes are here."
        ),
    )
    relay_port = WholeNumberField(
        required=False,
        initial=25,
        min_value=1,
        max_value=65535,
        label=_("Relay host's port"),
        help_text=_("Empty: 25."),
    )
    relay_verify = forms.ChoiceField(
        choices=[
            ("list", _("Listed recipients (mail waits here while the relay host is down)")),
            ("callout", _("Ask the relay host at once (while it is down, senders try again later)")),
        ],
        initial="list",
        required=False,
        widget=forms.RadioSelect,
        label=_("Recipients taken"),
    )
    max_mailboxes = count_field(initial=0, label=_("Most mailboxes"))
    max_aliases = count_field(initial=0, label=_("Most aliases"))
    max_quota_bytes = quota_field(initial=0, label=_("Largest mailbox quota"))
    default_quota_bytes = quota_field(initial=0, label=_("Quota of new mailboxes"))
    default_max_sent_per_hour = count_field(
        initial=0,
        required=False,
        label=_("Messages a mailbox may send an hour"),
        help_text=_("With SMTP AUTH, unless the mailbox says otherwise; 0 = no limit."),
    )
    default_max_recipients_per_hour = count_field(
        initial=0,
        required=False,
        label=_("Recipients a mailbox may send to an hour"),
        help_text=_("Unless the mailbox says otherwise; 0 = no limit."),
    )
    max_message_bytes = quota_field(
        initial=0,
        required=False,
        label=_("Largest message"),
        help_text=_("Mail to its addresses above this size is refused (552); 0 = the server's limit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if server := server_message_limit():
            self.fields["max_message_bytes"].help_text = _(
                "Mail to its addresses above this size is refused (552); 0 = the server's limit, %(size)s."
            ) % {"size": format_size(server)}

    def clean_default_max_sent_per_hour(self):
        return self.cleaned_data.get("default_max_sent_per_hour") or 0  # (left empty: no limit)

    def clean_default_max_recipients_per_hour(self):
        return self.cleaned_data.get("default_max_recipients_per_hour") or 0

    def clean_greylist_delay(self):
        return self.cleaned_data.get("greylist_delay") or 300  # (left empty: the defaults)

    def clean_greylist_window_hours(self):
        return self.cleaned_data.get("greylist_window_hours") or 24

    def clean_greylist_expiry_days(self):
        return self.cleaned_data.get("greylist_expiry_days") or 36

    def clean_relay_port(self):
        return self.cleaned_data.get("relay_port") or 25

    def clean_relay_verify(self):
        return self.cleaned_data.get("relay_verify") or "list"

    def clean_max_message_bytes(self):
        return self.cleaned_data.get("max_message_bytes") or 0  # (left empty: the server's limit)

    def clean(self):
        data = super().clean()
        top, default = data.get("max_quota_bytes"), data.get("default_quota_bytes")
        if top and default is not None and (default == 0 or default > top):
            self.add_error(
                "default_quota_bytes",
                _("With a largest quota of %(quota)s the default is at most that, not 0.")
                % {"quota": format_size(top)},
            )
        return data


class DomainCreateForm(DomainSettingsForm):
    name = SingleLineField(
        label=_("Name"), max_length=253, help_text=_("Internationalised names are fine (stored as xn-- A-labels).")
    )
    field_order = ["name"]


class DomainDeleteForm(forms.Form):
    force = forms.BooleanField(required=False, label=_("Also delete its mailboxes"))


class DomainAliasForm(forms.Form):
    name = SingleLineField(max_length=253, label=_("Alias domain"))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class GrantForm(forms.Form):
    """Which mailbox administers which domains, within what limits and capabilities."""

    admin = SingleLineField(max_length=254, label=_("Administrator's mailbox"))
    domains = IdChoiceField(label=_("Domains"), queryset=None, widget=forms.CheckboxSelectMultiple)
    quota_bytes = quota_field(initial=0, label=_("Quota for all its domains"))
    max_mailboxes = count_field(initial=0, label=_("Mailboxes for all its domains"))
    can_create_mailboxes = forms.BooleanField(label=_("Can create mailboxes"), required=False, initial=True)
    can_delete_mailboxes = forms.BooleanField(label=_("Can delete mailboxes"), required=False, initial=True)
    can_appoint_admins = forms.BooleanField(label=_("Can appoint admins"), required=False)

    def __init__(self, *args, domains, mailboxes=None, fixed_admin=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domains"].queryset = domains
        self.mailboxes = mailboxes  # those the actor may see: any other is "no mailbox", not a 403
        self.fixed_admin = fixed_admin
        if fixed_admin is not None:
            del self.fields["admin"]

    def clean_admin(self):
        try:
            mailbox = get_user_model().objects.get_by_address(self.cleaned_data["admin"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if self.mailboxes is not None and not self.mailboxes.filter(pk=mailbox.pk).exists():
            raise ValidationError(_("No mailbox %(address)s.") % {"address": mailbox.address})
        return mailbox

    def grant_fields(self) -> dict:
        return {key: self.cleaned_data[key] for key in GRANT_FIELDS}


class RelayRecipientsForm(forms.Form):
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=300_000,
        label=_("Addresses"),
        help_text=_(
            "One per line or separated by commas: local parts or whole addresses of this domain, "
            "or @ for every address (the relay host then decides)."
        ),
    )

    def clean_addresses(self):
        return [a for a in self.cleaned_data["addresses"].replace(",", "\n").splitlines() if a.strip()]
