"""The DNS records a domain needs to receive and send mail here, as zone-file lines.

MX, SPF, DKIM (each published key: the signing ones and the retired ones in their grace period),
DMARC, TLS-RPT, MTA-STS, the names mail programs look up for their settings (autoconfig and
autodiscover, pointing to the panel, and RFC 6186 SRV records), and advice for the reverse DNS of
the mail host. The mail host is ``MAIL_HOSTNAME``; the ports are the
ones the rendered configuration listens on. A domain alias needs the same records under its own
name (its mail is the target's). What each record is for, and the advice, are in the active
language (the panel's page and the API in the user's, the command line in English).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from domains import clientconfig, dkim
from domains.models import Domain


@dataclass
class Record:
    name: str  # fully qualified, with the final dot
    type: str
    value: str
    purpose: str
    retired: bool = False  # a retired DKIM key's, published until its grace period ends

    def zone_line(self) -> str:
        value = self.value if self.type not in ("TXT",) else _txt(self.value)
        return f"{self.name}\t3600\tIN\t{self.type}\t{value}"

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "value": self.value, "purpose": self.purpose}


def _txt(text: str) -> str:
    """A TXT value as zone-file strings of at most 255 characters each (RFC 1035 3.3.14)."""
    return " ".join(f'"{text[i : i + 255]}"' for i in range(0, len(text), 255)) or '""'


def _srv(name: str, priority: int, port: int, host: str, purpose: str) -> Record:
    return Record(name, "SRV", f"{priority} 1 {port} {host}", purpose)


def records(domain: Domain, now=None) -> list[Record]:
    name = f"{domain.name}."
    host = f"{settings.MAIL_HOSTNAME.rstrip('.')}."
    panel = f"{settings.MAIL_PANEL_HOSTNAME.rstrip('.')}."
    postmaster = f"postmaster@{domain.name}"
    out = [
        Record(name, "MX", f"10 {host}", gettext("mail for the domain goes to the mail host")),
        Record(name, "TXT", "v=spf1 mx -all", gettext("SPF: only the domain's MX hosts send its mail")),
    ]
    for key in dkim.published_keys(domain, now=now):
        if key.signing:
            purpose = gettext("DKIM %(algorithm)s (signs)")
        else:
            purpose = gettext("DKIM %(algorithm)s (retired, published until its grace period ends)")
        purpose %= {"algorithm": key.get_algorithm_display()}
        out.append(Record(f"{key.record_name}.", "TXT", key.record_text, purpose, retired=not key.signing))
    dmarc = f"v=DMARC1; p=quarantine; rua=mailto:{postmaster}"
    out += [
        Record(
            f"_dmarc.{name}",
            "TXT",
            dmarc,
            gettext("DMARC: quarantine what fails SPF and DKIM"),
        ),
        Record(
            f"_smtp._tls.{name}",
            "TXT",
            f"v=TLSRPTv1; rua=mailto:{postmaster}",
            gettext("TLS-RPT: TLS failures reported"),
        ),
        Record(
            f"_mta-sts.{name}", "TXT", f"v=STSv1; id={clientconfig.mta_sts_id()}", gettext("MTA-STS: the policy's id")
        ),
        Record(
            f"mta-sts.{name}", "CNAME", panel, gettext("MTA-STS: the policy at https://mta-sts.<domain>/.well-known/")
        ),
        Record(f"autoconfig.{name}", "CNAME", panel, gettext("Thunderbird and others find their settings here")),
        Record(f"autodiscover.{name}", "CNAME", panel, gettext("Outlook finds its settings here")),
        _srv(f"_submission._tcp.{name}", 0, settings.MAIL_SUBMISSION_PORT, host, gettext("RFC 6186: submission")),
        _srv(f"_submissions._tcp.{name}", 0, settings.MAIL_SMTPS_PORT, host, gettext("RFC 8314: submission over TLS")),
        _srv(f"_imaps._tcp.{name}", 0, settings.MAIL_IMAPS_PORT, host, gettext("RFC 6186: IMAP over TLS")),
        _srv(f"_imap._tcp.{name}", 10, settings.MAIL_IMAP_PORT, host, gettext("RFC 6186: IMAP (STARTTLS)")),
        _srv(f"_pop3s._tcp.{name}", 10, settings.MAIL_POP3S_PORT, host, gettext("RFC 6186: POP3 over TLS")),
    ]
    return out


def advice() -> list[str]:
    host = settings.MAIL_HOSTNAME.rstrip(".")
    return [
        gettext(
            "The reverse DNS (PTR) of the mail host's addresses must name %(host)s, and %(host)s must resolve to "
            "them: many receivers refuse mail from an address whose names do not agree."
        )
        % {"host": host},
    ]
