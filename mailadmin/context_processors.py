"""What the base layout needs to know about the acting user (its navigation)."""

from mailadmin import permissions


def panel(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "perms_admin": permissions.can_use_admin_pages(user),
        "perms_grants": permissions.can_manage_grants(user),
        "perms_blocklists": permissions.can_manage_blocklists(user),
        "perms_greylisting": permissions.can_manage_greylisting(user),
        "perms_statistics": permissions.can_see_server_statistics(user),
    }
