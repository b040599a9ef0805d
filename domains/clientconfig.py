"""What mail programs and sending servers ask of a domain's own names, answered from the settings.

- Thunderbird's autoconfig (``/mail/config-v1.1.xml``, also under ``/.well-known/autoconfig/``),
  asked of ``autoconfig.<domain>`` or the domain itself;
- Outlook's autodiscover, plain-old-XML form (``POST /autodiscover/autodiscover.xml``), asked of
  ``autodiscover.<domain>``;
- the MTA-STS policy (RFC 8461, ``/.well-known/mta-sts.txt``), asked of ``mta-sts.<domain>``;
- an Apple configuration profile, which a user downloads from their own page.

Each describes the mail host of ``MAIL_HOSTNAME`` with the ports and TLS the rendered
configuration listens with (IMAP and POP3 over TLS, submission over TLS and with STARTTLS); the
login is the mail address. The answers say nothing about any user: the same for every address of
a hosted domain, whether or not it exists; a name that is not a hosted, active domain gets 404.
"""

from __future__ import annotations

import hashlib
import plistlib
import uuid
from xml.sax.saxutils import escape

from django.conf import settings

from domains.models import Domain

MTA_STS_MAX_AGE = 604800  # a week (RFC 8461 suggests weeks)


def servers() -> dict:
    host = settings.MAIL_HOSTNAME.rstrip(".")
    return {
        "host": host,
        "imap": settings.MAIL_IMAPS_PORT,
        "pop3": settings.MAIL_POP3S_PORT,
        "smtps": settings.MAIL_SMTPS_PORT,
        "submission": settings.MAIL_SUBMISSION_PORT,
    }


def domain_of_host(host: str) -> Domain | None:
    """The hosted, active domain a request's host name belongs to (``autoconfig.``, ``autodiscover.``
    and ``mta-sts.`` prefixes, or the domain itself); None for anything else."""
    name = host.split(":")[0].strip().lower().rstrip(".")
    candidates = [name] + [
        name.removeprefix(p) for p in ("autoconfig.", "autodiscover.", "mta-sts.") if name.startswith(p)
    ]
    return Domain.objects.filter(name__in=candidates, active=True).order_by("-name").first()


def autoconfig_xml(domain: Domain) -> str:
    s, name = servers(), escape(domain.name)
    host = escape(s["host"])

    def server(kind: str, tag: str, port: int, socket_type: str) -> str:
        return (
            f'    <{tag} type="{kind}">\n'
            f"      <hostname>{host}</hostname>\n      <port>{port}</port>\n"
            f"      <socketType>{socket_type}</socketType>\n      <username>%EMAILADDRESS%</username>\n"
            f"      <authentication>password-cleartext</authentication>\n    </{tag}>\n"
        )

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n'
        f'  <emailProvider id="{name}">\n    <domain>{name}</domain>\n'
        f"    <displayName>{name}</displayName>\n    <displayShortName>{name}</displayShortName>\n"
        + server("imap", "incomingServer", s["imap"], "SSL")
        + server("pop3", "incomingServer", s["pop3"], "SSL")
        + server("smtp", "outgoingServer", s["smtps"], "SSL")
        + server("smtp", "outgoingServer", s["submission"], "STARTTLS")
        + "  </emailProvider>\n</clientConfig>\n"
    )


AUTODISCOVER_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def requested_address(body: bytes) -> str:
    """The ``EMailAddress`` of an autodiscover request ("" when there is none, or the XML is bad)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return ""
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "EMailAddress":
            return (element.text or "").strip()
    return ""


def autodiscover_xml(address: str) -> str:
    s, login, host = servers(), escape(address), escape(servers()["host"])

    def protocol(kind: str, port: int) -> str:
        return (
            f"      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{host}</Server>\n"
            f"        <Port>{port}</Port>\n        <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n"
            "        <SSL>on</SSL>\n        <AuthRequired>on</AuthRequired>\n      </Protocol>\n"
        )

    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">\n'
        f'  <Response xmlns="{AUTODISCOVER_RESPONSE}">\n    <Account>\n'
        "      <AccountType>email</AccountType>\n      <Action>settings</Action>\n"
        + protocol("IMAP", s["imap"])
        + protocol("POP3", s["pop3"])
        + protocol("SMTP", s["smtps"])
        + "    </Account>\n  </Response>\n</Autodiscover>\n"
    )


def mta_sts_policy() -> str:
    """RFC 8461 section 3.2: the policy every hosted domain publishes (its MX is the mail host)."""
    mode = settings.MAIL_MTA_STS_MODE
    return f"version: STSv1\r\nmode: {mode}\r\nmx: {servers()['host']}\r\nmax_age: {MTA_STS_MAX_AGE}\r\n"


def mta_sts_id() -> str:
    """The policy's id for the ``_mta-sts`` record: it changes whenever the policy does."""
    return hashlib.sha256(mta_sts_policy().encode()).hexdigest()[:20]


def apple_profile(mailbox) -> bytes:
    """A configuration profile (plist) with the mailbox's IMAP and SMTP account, no password."""
    s = servers()
    stable = uuid.uuid5(uuid.NAMESPACE_DNS, f"{mailbox.address}.{s['host']}")
    account = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{'.'.join(reversed(s['host'].split('.')))}.mail.{stable}",
        "PayloadUUID": str(uuid.uuid5(stable, "account")).upper(),
        "PayloadDisplayName": mailbox.address,
        "EmailAccountDescription": mailbox.address,
        "EmailAccountName": mailbox.get_full_name(),
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": mailbox.address,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": s["host"],
        "IncomingMailServerPortNumber": s["imap"],
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerUsername": mailbox.address,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": s["host"],
        "OutgoingMailServerPortNumber": s["smtps"],
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerUsername": mailbox.address,
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{'.'.join(reversed(s['host'].split('.')))}.profile.{stable}",
        "PayloadUUID": str(stable).upper(),
        "PayloadDisplayName": f"Mail of {mailbox.address}",
        "PayloadContent": [account],
    }
    return plistlib.dumps(profile)
