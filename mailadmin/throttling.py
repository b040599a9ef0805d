"""Login throttling with django-axes: what a failure counts against, and what a success clears.

Failures always count per address (the login name). They count per client only when the
client's own address is known (``mailadmin.shortcuts.client_ip``: through a trusted proxy,
or directly when the operator says clients connect directly): behind a proxy every user
shares the proxy's address, and counting that would let anyone lock everybody out.

Axes resets every lockout parameter on a successful login, so with ``ip_address`` among them it
deleted every failure from that client, including the failures against *other* addresses: anyone
with one valid mailbox could guess another address's password for ever (a few guesses, one own
login, repeat). Here a successful login forgets only its own address's failures; a client's
failures against other addresses keep counting towards both lock-outs.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt

PER_ADDRESS = ["username"]
PER_ADDRESS_AND_CLIENT = ["username", "ip_address"]


def lockout_parameters(request, credentials=None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: per address, and per client when its address is known.

    ``request`` is the HttpRequest django-axes has annotated with ``axes_ip_address``
    (our ``client_ip``), or one of its AccessAttempt rows (``ip_address``).
    """
    known = getattr(request, "axes_ip_address", None) or getattr(request, "ip_address", None)
    return PER_ADDRESS_AND_CLIENT if known else PER_ADDRESS


class LoginAttempts(AxesDatabaseHandler):
    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
