"""The DNS checker: what a domain publishes against what it needs (``domains.dns``), per record.

Each needed record gets a verdict: ``ok``; ``missing`` (no record of that kind at the name);
``wrong`` (records there, none of them the needed one: the published ones are named); or
``unknown`` (the DNS did not answer: a failure to look is never reported as a broken record).
The fix of a missing or wrong record is its zone-file line. The explanations are in the active
language (``label`` names the state in it; ``state`` stays the same word for programs). The
lookups go through dnspython to ``MAIL_DNS_RESOLVERS`` (the system's resolvers when empty).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from domains import dns as needed
from domains.models import Domain

# The states as the panel's DNS page names them.
STATE_LABELS = {
    "ok": pgettext_lazy("DNS verdict", "ok"),
    "missing": pgettext_lazy("DNS verdict", "missing"),
    "wrong": pgettext_lazy("DNS verdict", "wrong"),
    "unknown": pgettext_lazy("DNS verdict", "unknown"),
}


@dataclass
class Verdict:
    record: needed.Record
    state: str  # ok | missing | wrong | unknown
    published: list[str]
    detail: str = ""

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def fix(self) -> str:
        if self.state in ("ok", "unknown"):
            return ""
        return gettext("publish: %(line)s") % {"line": self.record.zone_line()}

    def as_dict(self) -> dict:
        return {**self.record.as_dict(), "state": self.state, "published": self.published, "detail": self.detail,
                "fix": self.fix}  # fmt: skip


def resolver():
    import dns.resolver

    if settings.MAIL_DNS_RESOLVERS:
        found = dns.resolver.Resolver(configure=False)
        found.nameservers = list(settings.MAIL_DNS_RESOLVERS)
    else:
        found = dns.resolver.Resolver()
    found.port = settings.MAIL_DNS_PORT
    found.lifetime = found.timeout = settings.MAIL_DNS_TIMEOUT
    return found


def _published(ask, record: needed.Record) -> list[str] | None:
    """The values at the record's name and type, in the form ``domains.dns`` writes; None when
    the DNS gave no answer at all (timeout, SERVFAIL)."""
    import dns.exception
    import dns.resolver

    try:
        answer = ask.resolve(record.name, record.type, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.YXDOMAIN):
        return None
    values = []
    for rdata in answer.rrset or []:
        if record.type == "TXT":
            values.append(b"".join(rdata.strings).decode(errors="replace"))
        elif record.type == "MX":
            values.append(f"{rdata.preference} {rdata.exchange.to_text().lower()}")
        elif record.type == "SRV":
            values.append(f"{rdata.priority} {rdata.weight} {rdata.port} {rdata.target.to_text().lower()}")
        else:
            values.append(rdata.to_text())
    return values


def _same(record: needed.Record, value: str) -> bool:
    if record.type == "MX":  # any preference will do: the host is what counts
        return value.split()[-1] == record.value.split()[-1].lower()
    if record.type == "SRV":  # the port and the host
        return value.split()[2:] == [part.lower() for part in record.value.split()[2:]]
    if record.type == "CNAME":
        return value.lower() == record.value.lower()
    return " ".join(value.split()) == " ".join(record.value.split())


def check(domain: Domain, ask=None) -> list[Verdict]:
    ask = ask or resolver()
    verdicts = []
    for record in needed.records(domain):
        if record.retired:
            continue  # a retired DKIM key may already be gone: nothing needs it
        values = _published(ask, record)
        if values is None:
            verdicts.append(Verdict(record, "unknown", [], gettext("the DNS did not answer; try again later")))
        elif any(_same(record, value) for value in values):
            verdicts.append(Verdict(record, "ok", values))
        elif not values or (record.type == "TXT" and not _same_kind(record, values)):
            detail = gettext("no %(type)s record like it at %(name)s") % {"type": record.type, "name": record.name}
            verdicts.append(Verdict(record, "missing", values, detail))
        else:
            detail = gettext("%(name)s has %(values)s") % {"name": record.name, "values": "; ".join(values)}
            verdicts.append(Verdict(record, "wrong", values, detail))
    return verdicts


def _same_kind(record: needed.Record, values: list[str]) -> bool:
    """Whether one of the TXT values is of the needed kind (v=spf1, v=DKIM1, v=DMARC1 ...)."""
    tag = record.value.split(";")[0].split()[0]
    return any(value.split(";")[0].split()[0:1] == [tag] for value in values)


def problems_of(verdicts: list[Verdict]) -> int:
    return sum(1 for v in verdicts if v.state in ("missing", "wrong"))


def check_and_record(domain: Domain, ask=None) -> list[Verdict]:
    """Check ``domain`` and keep the count of its problems, which the domain list shows."""
    verdicts = check(domain, ask)
    Domain.objects.filter(pk=domain.pk).update(dns_problems=problems_of(verdicts), dns_checked_at=timezone.now())
    return verdicts


def check_all(ask=None) -> dict[str, int]:
    """Check every active domain (a daily job): its name -> its problems."""
    ask = ask or resolver()
    return {d.name: problems_of(check_and_record(d, ask)) for d in Domain.objects.filter(active=True)}
