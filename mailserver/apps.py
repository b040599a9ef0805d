from django.apps import AppConfig


class MailserverConfig(AppConfig):
    """The contract with Exim and Dovecot: lookup views, rendered configuration, trace, lookup users."""

    name = "mailserver"
    verbose_name = "Mail servers"
