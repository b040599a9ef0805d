"""The audit log: every change through the panel, the CLI or the API."""

from django.conf import settings
from django.db import models


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Superusers see everything; others the entries of the domains they see now (by the
        domain record, not its name: a new domain of an old name starts with no history)."""
        if user.is_superuser:
            return self
        domains = self.model._meta.get_field("domain").related_model.objects  # no import: no cycle
        return self.filter(domain__in=domains.visible_to(user).values("pk"))


class AuditEntry(models.Model):
    """Who did what, when, from where, with the object's fields before and after."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=254, help_text="The actor's address when it acted (kept after deletion).")
    origin = models.CharField(max_length=100, help_text="cli, or the client address of a panel/API request.")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    domain = models.ForeignKey(
        "domains.Domain", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    domain_name = models.CharField(
        max_length=253, blank=True, db_index=True, help_text="The domain's name when it happened (kept after deletion)."
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
