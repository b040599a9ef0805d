"""The panel's authentication backend: Django's ModelBackend, loading what every request asks of the user.

Each panel request checks the acting mailbox's rank (``mailadmin.permissions.rank``): its domain
(may it log in?) and its admin grant. Loading both with the mailbox, in the query the
authentication middleware makes anyway, keeps them from costing a query each on every page, and
keeps a domain admin's pages at the same query count as a superuser's.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from mailadmin import permissions

UserModel = get_user_model()


class MailboxBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("domain", "grant").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        permissions.remember_grant(user, UserModel._meta.get_field("grant").get_cached_value(user))
        return user if self.user_can_authenticate(user) else None
