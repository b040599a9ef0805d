from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Every importer from an older system (vmail-sql, PostfixAdmin, CSV, Postfix maps, LDIF, mbox)."""

    name = "imports"
