"""IMAP logins per second through real Dovecot: app passwords against main passwords, in one run.

    nice -n 10 .venv/bin/python bench/app_passwords.py --db mariadb [--users 300] [--clients 8] [--repeat 3]

Run as root with Exim and Dovecot installed (scripts/install.sh --test). It makes its own
database (``mailadmin_bench_apppw``): one domain, ``--users`` mailboxes whose main password is one
``{ARGON2ID}`` hash with the production parameters (``MAIL_ARGON2_*`` defaults, as every
mailbox of a real server has), and app passwords made by the panel's own service
(``accounts.apppasswords``): the first half of the mailboxes have one each, the second half twenty
each. Then the private Exim + Dovecot of tests/mailstack/stack.py (the shipped configuration,
rendered; the auth cache and ``--login-mode`` as shipped, ``performance``) and, per round, three
phases in rotating order:

- ``main``: every mailbox logs in once with its main password (Argon2 in Dovecot's auth workers);
- ``app1``: the first half logs in with its one app password;
- ``app20``: the second half logs in with the last of its twenty app passwords.

Each login is a new IMAPS connection, LOGIN and LOGOUT, from ``--clients`` threads at once. The
auth cache is flushed before every phase and each mailbox logs in once per phase, so every login
is a cache miss: the figure is the cost of verifying a password, not of remembering one. The
figure of each phase is the median of ``--repeat`` rounds; ``ratio`` is app-password logins per
second over main-password logins per second in the same run, and ``app20 / app1`` shows whether
a mailbox's number of app passwords costs anything (goal: none; goal for app passwords: at least
200 logins per second on this 2-core machine).
"""

from __future__ import annotations

import imaplib
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, recreate_database, save, setup_django  # noqa: E402
from bench.lookups import lookup_users, mail_server_credentials  # noqa: E402

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench's own mailboxes
GOAL = 200.0


def build(users: int) -> tuple[list[str], dict[str, str]]:
    """The mailboxes and, for each, the app password to log in with."""
    from django.test import override_settings

    from accounts import apppasswords, services
    from accounts.models import Mailbox
    from domains import services as domains
    from mailadmin.lib.passwords import HashPolicy, hash_password

    domain = domains.domain_create(acting_user=None, origin="bench", name="apppw.bench.example")
    addresses = []
    with override_settings(MAIL_ARGON2_MEMORY_KIB=1024, MAIL_ARGON2_TIME_COST=1):
        for n in range(users):
            mailbox = services.mailbox_create(
                acting_user=None, origin="bench", domain=domain, local_part=f"u{n:05d}", password=PASSWORD
            )
            addresses.append(mailbox.address)
    production = hash_password(PASSWORD, HashPolicy())  # m=64 MiB, t=3, as shipped
    Mailbox.objects.filter(domain=domain).update(password=production)  # the triggers refresh the lookup table
    app = {}
    for n, mailbox in enumerate(Mailbox.objects.filter(domain=domain).order_by("address")):
        for k in range(1 if n < users // 2 else 20):
            _, shown = apppasswords.create(
                acting_user=None, mailbox=mailbox, name=f"device {k}", protocols=["imap"], origin="bench"
            )
        app[mailbox.address] = shown  # the last one made
    return addresses, app


def logins_per_second(stack, logins: list[tuple[str, str]], clients: int) -> float:
    queue, lock, failures = list(logins), threading.Lock(), []

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                user, password = queue.pop()
            try:
                conn = imaplib.IMAP4_SSL("127.0.0.1", stack.ports["imaps"], ssl_context=stack.tls_context(), timeout=60)
                conn.login(user, password)
                conn.logout()
            except (imaplib.IMAP4.error, OSError) as exc:
                failures.append(f"{user}: {exc}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        sys.exit(f"{len(failures)} logins failed, e.g. {failures[:3]}")
    return len(logins) / elapsed


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.set_defaults(name="mailadmin_bench_apppw")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--login-mode", default="performance", choices=["performance", "security"], help="MAIL_DOVECOT_LOGIN_MODE"
    )
    options = parser.parse_args()
    recreate_database(options.db, options.name)
    setup_django(options.db, options.name)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from mailserver import config as mailconfig
    from tests.mailstack.conftest import open_sqlite_file
    from tests.mailstack.stack import MailStack

    call_command("migrate", verbosity=0)
    addresses, app = build(options.users)
    credentials = mail_server_credentials(lookup_users(options.db, options.name)) if options.db != "sqlite" else {}
    keeper = open_sqlite_file() if options.db == "sqlite" else None
    database = mailconfig.Database.from_settings_dict(connection.settings_dict)
    extra = {"MAIL_AUTH_CACHE_TTL": settings.MAIL_AUTH_CACHE_TTL, "MAIL_DOVECOT_LOGIN_MODE": options.login_mode}
    stack = MailStack(database, credentials, extra=extra)
    half = options.users // 2
    phases = {
        "main": [(a, PASSWORD) for a in addresses],
        "app1": [(a, app[a]) for a in addresses[:half]],
        "app20": [(a, app[a]) for a in addresses[half:]],
    }
    rates: dict[str, list[float]] = {name: [] for name in phases}
    try:
        stack.start()
        stack.flush_auth_cache()
        logins_per_second(stack, phases["app1"][:20], options.clients)  # warm-up: processes, connections
        order = list(phases)
        for r in range(options.repeat):
            for name in order[r % 3 :] + order[: r % 3]:
                stack.flush_auth_cache()
                rates[name].append(logins_per_second(stack, phases[name], options.clients))
                print(f"round {r + 1} {name}: {rates[name][-1]:.1f} logins/s", flush=True)
    finally:
        stack.stop()
        if keeper is not None:
            keeper.close()
    figures = {name: round(median(values), 1) for name, values in rates.items()}
    app_rate = min(figures["app1"], figures["app20"])
    data = {
        "users": options.users,
        "login_mode": options.login_mode,
        "clients": options.clients,
        "repeat": options.repeat,
        "logins_per_second": figures,
        "runs": {name: [round(v, 1) for v in values] for name, values in rates.items()},
        "ratio_app_to_main": round(app_rate / figures["main"], 1),
        "ratio_app20_to_app1": round(figures["app20"] / figures["app1"], 2),
        "goal_app_logins_per_second": GOAL,
        "goal_met": app_rate >= GOAL,
    }
    print(data)
    save("app_passwords", options.db, data, options.tag)


if __name__ == "__main__":
    main()
