from django.apps import AppConfig


class MailadminConfig(AppConfig):
    name = "mailadmin"

    def ready(self):
        from django.utils.translation import gettext

        from mailadmin.lib import messages

        messages.translate = gettext  # the helpers' messages in the reader's language (mailadmin.lib.messages)
