"""django-axes' database handler, with a reset on success that clears only the address that logged in.

Axes resets every lockout parameter on a successful login, so with ``ip_address`` among them it
deleted every failure from that client, including the failures against *other* addresses: anyone
with one valid mailbox could guess another address's password for ever (a few guesses, one own
login, repeat). Here a successful login forgets only its own address's failures; a client's
failures against other addresses keep counting towards both lock-outs.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt


class LoginAttempts(AxesDatabaseHandler):
    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
