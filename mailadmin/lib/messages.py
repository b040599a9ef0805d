"""The pure helpers' messages, in the language of whoever reads them.

The helpers of ``mailadmin.lib`` know nothing of Django. Their errors carry an English template
and its values; the text is made when the error is turned into text (``str(exc)``), through the
translation function the panel installs at start (``mailadmin.apps``: Django's ``gettext``), so in
the language active then: a German page, a French command line, English without one.
"""

from __future__ import annotations

translate = None  # set by mailadmin.apps.MailadminConfig.ready() to django.utils.translation.gettext


def gettext_noop(text: str) -> str:
    """Marks a template for the catalogues (``makemessages`` reads the name); translated later."""
    return text


class HelperError(ValueError):
    """A refusal of a helper: ``template`` (English, with ``%(name)s`` placeholders) and its values.
    A value that is itself an error is written in the same language when the text is made."""

    def __init__(self, template: str, **values):
        super().__init__(template)
        self.template, self.values = template, values

    def __str__(self) -> str:
        text = translate(self.template) if translate is not None else self.template
        return text % self.values if self.values else text
