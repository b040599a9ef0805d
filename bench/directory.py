"""A deterministic synthetic mail directory, as rows for ``mailadmin.bulk``.

At scale 1.0: 100,000 domains, 1,000,000 mailboxes, 500,000 aliases (5,000 of them
catch-alls), 20,000 domain aliases and 50,000 vacations. One domain, ``big.example``,
holds 10,000 mailboxes (for the domain page benchmark); the other mailboxes are spread
at random over the other domains (about 10 each, some have none). The same seed gives
the same directory, row for row.

Rows go in as a user would type them: some domains as U-labels (the loader stores
A-labels), some local parts in capitals, alias destinations as bare names or full
addresses separated by commas and spaces, so the loader's normalisation is exercised.
"""

from __future__ import annotations

import bisect
import datetime
import random
from dataclasses import dataclass, field
from itertools import accumulate

from mailadmin.lib.sizes import MB

FULL = {"domains": 100_000, "mailboxes": 1_000_000, "aliases": 500_000, "domain_aliases": 20_000, "vacations": 50_000}
BIG_DOMAIN = "big.example"
BIG_MAILBOXES = 10_000
CATCHALL_SHARE = 0.05  # of domains; each catch-all is one of the aliases

FIRST = [
    "anna",
    "ben",
    "chloe",
    "david",
    "emma",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "karin",
    "luis",
    "maria",
    "nils",
    "olga",
    "paul",
    "quentin",
    "rosa",
    "sven",
    "tina",
    "ugo",
    "vera",
    "wim",
    "yusuf",
    "zoe",
]
LAST = [
    "adler",
    "berg",
    "costa",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "horvat",
    "ivanova",
    "jansen",
    "kowalski",
    "larsen",
    "meyer",
    "novak",
    "olsen",
    "petrov",
    "quinn",
    "rossi",
    "schmidt",
    "tanaka",
    "urban",
    "vogel",
    "weber",
    "xu",
    "young",
    "zeller",
]
WORDS = [
    "alpine",
    "harbour",
    "meadow",
    "granite",
    "cedar",
    "falcon",
    "river",
    "summit",
    "orchard",
    "lantern",
    "copper",
    "willow",
    "beacon",
    "prairie",
    "glacier",
    "maple",
    "harvest",
    "canyon",
    "ember",
    "tidal",
]
IDN_WORDS = ["bücher", "straße", "café", "müller", "ørsted", "señor", "łódź", "žluť"]
ROLES = ["info", "sales", "support", "office", "billing", "jobs", "hello", "team", "press", "abuse"]


@dataclass
class Directory:
    scale: float = 1.0
    seed: int = 20261121
    counts: dict = field(init=False)
    per_domain: list = field(init=False)  # mailboxes of domain i
    first_box: list = field(init=False)  # global index of domain i's first mailbox

    def __post_init__(self):
        self.counts = {key: max(1, round(value * self.scale)) for key, value in FULL.items()}
        self.counts["domains"] = max(2, self.counts["domains"])
        self.big = min(BIG_MAILBOXES, self.counts["mailboxes"] // 10)
        rng = random.Random(self.seed)
        others = self.counts["domains"] - 1
        owners = sorted(rng.randrange(others) for _ in range(self.counts["mailboxes"] - self.big))
        per = [0] * others
        for owner in owners:
            per[owner] += 1
        self.per_domain = [self.big, *per]
        self.first_box = [0, *accumulate(self.per_domain)][:-1]

    # --- names -----------------------------------------------------------------------

    def domain_name(self, i: int, *, typed: bool = False) -> str:
        """Domain i as stored (A-label); ``typed`` gives the U-label a user would type."""
        if i == 0:
            return BIG_DOMAIN
        if i % 500 == 7:
            name = f"{IDN_WORDS[i % len(IDN_WORDS)]}-{i}.example"
            if typed:
                return name
            import idna

            return idna.encode(name, uts46=True).decode()
        return f"{WORDS[i % len(WORDS)]}-{i}.example"

    def local_part(self, j: int) -> str:
        """Mailbox j's local part (unique across the directory)."""
        return f"{FIRST[j % len(FIRST)]}.{LAST[(j // len(FIRST)) % len(LAST)]}{j}"

    def mailbox_domain(self, j: int) -> int:
        return bisect.bisect_right(self.first_box, j) - 1 if j >= self.big else 0

    def address(self, j: int) -> str:
        return f"{self.local_part(j)}@{self.domain_name(self.mailbox_domain(j))}"

    # --- rows for mailadmin.bulk -------------------------------------------------------

    def domains(self):
        for i in range(self.counts["domains"]):
            limited = i % 10 < 3 and i != 0
            row = {"name": self.domain_name(i, typed=True), "description": f"Synthetic domain {i}"}
            if limited:  # a third of the domains have quota limits, some a mailbox limit too
                row.update(max_quota_bytes=10240 * MB, default_quota_bytes=2048 * MB)
                if i % 10 == 0:
                    row["max_mailboxes"] = self.per_domain[i] + 5
            if i % 97 == 5:
                row["active"] = False
            yield row

    def domain_aliases(self):
        rng = random.Random(self.seed + 1)
        for k in range(self.counts["domain_aliases"]):
            yield {
                "name": f"alias-{k}.example.net",
                "domain": self.domain_name(rng.randrange(self.counts["domains"])),
                "active": k % 50 != 3,
            }

    def mailboxes(self):
        for i, count in enumerate(self.per_domain):
            domain = self.domain_name(i)
            limited = i % 10 < 3 and i != 0
            for j in range(self.first_box[i], self.first_box[i] + count):
                row = {
                    "domain": domain,
                    "local_part": self.local_part(j).capitalize() if j % 13 == 0 else self.local_part(j),
                    "first_name": FIRST[j % len(FIRST)].capitalize(),
                    "last_name": LAST[(j // len(FIRST)) % len(LAST)].capitalize(),
                }
                if limited and j % 4 == 0:
                    row["quota_bytes"] = 512 * (1 + j % 8) * MB
                elif not limited and j % 3 == 0:
                    row["quota_bytes"] = 1024 * MB
                if j % 211 == 0:
                    row["active"] = False
                if j % 97 == 1:  # about 1 % forward their mail, half of them keeping a copy
                    row["forward_to"] = f"{self.local_part(j)}@forward-{j % 100}.example.net"
                    row["forward_keep_copy"] = j % 2 == 0
                yield row

    def catchall_domains(self) -> list[int]:
        rng = random.Random(self.seed + 2)
        want = min(round(self.counts["domains"] * CATCHALL_SHARE), self.counts["aliases"] // 10)
        return sorted(rng.sample(range(1, self.counts["domains"]), want))

    def aliases(self):
        rng = random.Random(self.seed + 3)
        catchalls = self.catchall_domains()
        regular = self.counts["aliases"] - len(catchalls)
        owners = [(rng.randrange(self.counts["domains"]), k) for k in range(regular)]
        for i, k in sorted(owners + [(c, -1) for c in catchalls]):  # grouped by domain, catch-all first
            if k < 0:
                yield self._catchall(i)
            else:
                yield {
                    "domain": self.domain_name(i, typed=True),
                    "local_part": f"{ROLES[k % len(ROLES)]}-{k}",
                    "destinations": self._destinations(rng, i),
                }

    def _catchall(self, i: int) -> dict:
        target = self.local_part(self.first_box[i]) if self.per_domain[i] else f"postmaster@{self.domain_name(i - 1)}"
        return {"domain": self.domain_name(i, typed=True), "local_part": "", "destinations": target}

    def _destinations(self, rng: random.Random, i: int) -> str:
        parts = []
        for _ in range(1 + rng.randrange(3)):
            if self.per_domain[i] and rng.random() < 0.7:
                parts.append(self.local_part(self.first_box[i] + rng.randrange(self.per_domain[i])))  # bare name
            else:
                parts.append(f"someone{rng.randrange(10**6)}@elsewhere-{rng.randrange(1000)}.example.com")
        return ", ".join(parts)

    def vacations(self):
        rng = random.Random(self.seed + 4)
        today = datetime.date.today()
        chosen = sorted(rng.sample(range(self.counts["mailboxes"]), self.counts["vacations"]))
        for n, j in enumerate(chosen):
            row = {"address": self.address(j)}
            if n % 3 == 0:
                row.update(
                    mode="custom",
                    subject=f"Away until {today + datetime.timedelta(days=14)}",
                    body="I am away and will answer when I am back.\nRegards,\n" + FIRST[j % len(FIRST)],
                )
            else:
                row["mode"] = "default" if n % 3 == 1 else "off"
            if n % 5 == 0:
                row.update(first_day=today - datetime.timedelta(days=3), last_day=today + datetime.timedelta(days=10))
            elif n % 5 == 1:
                row.update(first_day=today + datetime.timedelta(days=30))  # not yet: not in the lookup view
            yield row
