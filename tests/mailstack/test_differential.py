"""`manage.py trace` and `exim -bt` agree on every address of a generated directory (MariaDB/MySQL)."""

from __future__ import annotations

import random

import pytest

from accounts import services as accounts
from accounts.models import Mailbox
from domains import services as domains
from mailserver.trace import trace
from tests import factories
from tests.mailstack.stack import parse_bt

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]

DOMAINS = ["d0.gen.test", "d1.gen.test", "d2.gen.test", "d3.gen.test"]
ALIAS_DOMAIN, INACTIVE_DOMAIN, OUTSIDE = "da.gen.test", "off.gen.test", "outside.gen.test"


def generate(rng: random.Random) -> list[str]:
    """A directory with mailboxes, aliases, chains, loops, catch-alls, domain aliases and inactive objects;
    returns the addresses to compare (several hundred)."""
    for name in DOMAINS:
        factories.domain(name)
    factories.domain(INACTIVE_DOMAIN, active=False)
    domains.domain_alias_create(
        origin="test", acting_user=None, name=ALIAS_DOMAIN, target=domains.get_domain(DOMAINS[0])
    )
    domains.domain_alias_create(
        origin="test", acting_user=None, name="dead.gen.test", target=domains.get_domain(DOMAINS[1]), active=False
    )
    mailboxes, aliases = [], []
    for i in range(80):
        address = f"m{i}@{rng.choice(DOMAINS)}"
        factories.mailbox(address, active=rng.random() > 0.1)
        mailboxes.append(address)
    factories.mailbox(f"m0@{INACTIVE_DOMAIN}")
    over = rng.sample(mailboxes, 6)
    Mailbox.objects.filter(address__in=over).update(over_quota=True)
    alias_names = [f"a{i}@{rng.choice(DOMAINS)}" for i in range(120)]
    for address in alias_names:
        pool = mailboxes + alias_names + [f"nobody{rng.randrange(5)}@{rng.choice(DOMAINS)}", f"x@{OUTSIDE}"]
        destinations = rng.sample(pool, rng.choice([1, 1, 1, 2, 3]))
        destinations = [d for d in destinations if d != address] or [mailboxes[0]]
        factories.alias(address, destinations, active=rng.random() > 0.08)
        aliases.append(address)
    # explicit loops, with and without a mailbox in them
    factories.alias(f"loop1@{DOMAINS[2]}", [f"loop2@{DOMAINS[2]}"])
    factories.alias(f"loop2@{DOMAINS[2]}", [f"loop1@{DOMAINS[2]}"])
    factories.alias(f"loop3@{DOMAINS[2]}", [f"loop4@{DOMAINS[2]}", mailboxes[1]])
    factories.alias(f"loop4@{DOMAINS[2]}", [f"loop3@{DOMAINS[2]}", mailboxes[2]])
    aliases += [f"loop{i}@{DOMAINS[2]}" for i in range(1, 5)]
    # catch-alls: one to a mailbox, one to an alias, one to an unknown local address (a catch-all loop)
    factories.alias(f"@{DOMAINS[0]}", [mailboxes[3]])
    factories.alias(f"@{DOMAINS[1]}", [aliases[0]])
    factories.alias(f"@{DOMAINS[3]}", [f"nowhere@{DOMAINS[3]}", mailboxes[4]])
    # forwarding: with and without a copy, to mailboxes, aliases, unknown and outside addresses, and a loop
    active = list(Mailbox.objects.filter(address__in=mailboxes, active=True).values_list("address", flat=True))
    for address in rng.sample(sorted(active), 12):
        pool = mailboxes + aliases + [f"nobody{rng.randrange(5)}@{rng.choice(DOMAINS)}", f"fwd@{OUTSIDE}"]
        destinations = [d for d in rng.sample(pool, rng.choice([1, 2])) if d != address] or [f"fwd@{OUTSIDE}"]
        accounts.mailbox_set_forwarding(
            origin="test",
            acting_user=None,
            mailbox=Mailbox.objects.get(address=address),
            destinations=destinations,
            keep_copy=rng.random() > 0.5,
        )
    ring = [f"ring1@{DOMAINS[3]}", f"ring2@{DOMAINS[3]}"]
    for first, second in (ring, ring[::-1]):
        mailbox = Mailbox.objects.filter(address=first).first() or factories.mailbox(first)
        accounts.mailbox_set_forwarding(
            origin="test", acting_user=None, mailbox=mailbox, destinations=[second], keep_copy=False
        )
    mailboxes += ring
    probes = mailboxes + aliases
    probes += [f"unknown{i}@{d}" for i in range(8) for d in DOMAINS]
    probes += [addr.replace(DOMAINS[0], ALIAS_DOMAIN) for addr in probes if addr.endswith("@" + DOMAINS[0])]
    probes += [addr.replace(DOMAINS[1], "dead.gen.test") for addr in probes if addr.endswith("@" + DOMAINS[1])][:20]
    probes += [f"m0@{INACTIVE_DOMAIN}", f"who@{INACTIVE_DOMAIN}", f"someone@{OUTSIDE}"]
    return sorted(set(probes))


def exim_routes(stack, addresses: list[str]) -> dict[str, set]:
    """Parse `exim -bt ADDRESS` for each address: {(kind, address)} of the routing tree's leaves.

    One address per run: with several, exim -bt also de-duplicates across them."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(lambda a: stack.exim("-bt", a, timeout=60).stdout, addresses))
    return {a: parse_bt(out) for a, out in zip(addresses, outputs, strict=True)}


def trace_routes(address: str) -> set:
    t = trace(address)
    found = {(o.kind, o.address) for o in t.outcomes if o.kind != "dropped"}
    if [o.kind for o in t.outcomes] == ["dropped"] and not t.outcomes[0].via:
        found.add(("dropped", address))
    if all(o.kind == "dropped" for o in t.outcomes) and t.outcomes and t.outcomes[0].via:
        found = {("dropped", address)}
    return found


def test_trace_and_exim_agree_on_every_address_of_a_generated_directory(stack, directory):
    rng = random.Random(20261121)
    probes = generate(rng)
    assert len(probes) >= 300, len(probes)
    exim = exim_routes(stack, probes)
    disagree = {a: (trace_routes(a), exim[a]) for a in probes if trace_routes(a) != exim[a]}
    assert not disagree, "\n".join(f"{a}: trace={t} exim={e}" for a, (t, e) in list(disagree.items())[:20])


def test_a_loop_that_reaches_no_mailbox_is_refused_at_rcpt(stack, directory):
    factories.alias("ping@alpha.test", ["pong"])
    factories.alias("pong@alpha.test", ["ping"])
    assert trace("ping@alpha.test").rcpt.startswith("550")
    conn = stack.smtp()
    try:
        assert conn.mail("someone@outside.test")[0] == 250
        assert conn.rcpt("ping@alpha.test")[0] == 550
    finally:
        conn.close()
