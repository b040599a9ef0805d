"""DKIM keys of the domains: made, rotated, retired, and installed for Exim to sign with.

Each domain that signs has one RSA 2048 key and one Ed25519 key (RFC 8463), both signing: a
receiver that does not know Ed25519 still verifies the RSA signature. A selector carries the day
its key was made (``mx20261203r``), so a rotation never reuses a published name. A rotated or
disabled key stops signing at once and stays in the DNS records for ``MAIL_DKIM_GRACE_DAYS``, then
``dkim_purge`` deletes it.

How the private keys reach Exim: ``manage.py dkim install DIR`` (run as root, or as the key
owner) writes ``DIR/<domain>/<selector>.pem`` (mode 0640, group ``--group``, the one Exim runs
as) and ``DIR/<domain>/selectors`` for every signing key, and removes what no longer signs.
Exim reads those files (``MAIL_DKIM_DIR``); the lookup views never carry a private key, and the
panel never shows one.
"""

from __future__ import annotations

import base64
import datetime
import grp
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from domains.models import DkimKey, Domain
from mailadmin import permissions
from mailadmin.audit import record
from mailadmin.permissions import require

SELECTOR_PREFIX = "mx"
SUFFIX = {DkimKey.Algorithm.RSA: "r", DkimKey.Algorithm.ED25519: "e"}


def generate_key(algorithm: str) -> tuple[str, str]:
    """(private key as PKCS#8 PEM, the DNS record's p= value) of a new key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == DkimKey.Algorithm.RSA:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif algorithm == DkimKey.Algorithm.ED25519:
        key = ed25519.Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raise ValidationError(gettext("Unknown DKIM algorithm %(name)r.") % {"name": algorithm})
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, base64.b64encode(public).decode()


def signing_keys(domain: Domain):
    return domain.dkim_keys.filter(retired_at__isnull=True).order_by("algorithm")


def published_keys(domain: Domain, now=None):
    """The keys whose public half belongs in the DNS: the signing ones, and the retired ones
    still in their grace period."""
    now = now or timezone.now()
    grace = datetime.timedelta(days=settings.MAIL_DKIM_GRACE_DAYS)
    return domain.dkim_keys.exclude(retired_at__lt=now - grace).order_by("-created", "algorithm")


def _new_selector(domain: Domain, algorithm: str, now) -> str:
    base = f"{SELECTOR_PREFIX}{now:%Y%m%d}"
    taken = set(domain.dkim_keys.values_list("selector", flat=True))
    for n in range(100):
        selector = f"{base}{'' if n == 0 else n}{SUFFIX[algorithm]}"
        if selector not in taken:
            return selector
    raise ValidationError(gettext("Too many DKIM keys made for %(domain)s today.") % {"domain": domain.display_name})


def _require(acting_user) -> None:
    require(acting_user is None or permissions.is_superuser(acting_user), gettext("Only superusers manage DKIM keys."))


def _make_keys(domain: Domain, now) -> list[DkimKey]:
    made = []
    for algorithm in (DkimKey.Algorithm.RSA, DkimKey.Algorithm.ED25519):
        private, public = generate_key(algorithm)
        made.append(
            DkimKey.objects.create(
                domain=domain,
                selector=_new_selector(domain, algorithm, now),
                algorithm=algorithm,
                private_key=private,
                public_key=public,
            )
        )
    return made


@transaction.atomic
def dkim_enable(*, acting_user, domain: Domain, origin: str) -> list[DkimKey]:
    """Keys for ``domain`` (RSA and Ed25519) unless it signs already; the keys that sign now."""
    _require(acting_user)
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    keys = list(signing_keys(domain))
    if keys:
        return keys
    keys = _make_keys(domain, timezone.now())
    record(acting_user=acting_user, origin=origin, action="dkim.enable", obj=domain, domain=domain,
           after={"selectors": [k.selector for k in keys]})  # fmt: skip
    return keys


@transaction.atomic
def dkim_rotate(*, acting_user, domain: Domain, origin: str) -> list[DkimKey]:
    """New keys sign from now on; the old ones stay published for the grace period."""
    _require(acting_user)
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    now = timezone.now()
    old = list(signing_keys(domain))
    if not old:
        text = gettext("%(domain)s does not sign with DKIM: enable it first.")
        raise ValidationError(text % {"domain": domain.display_name})
    domain.dkim_keys.filter(pk__in=[k.pk for k in old]).update(retired_at=now)
    keys = _make_keys(domain, now)
    before, after = {"selectors": [k.selector for k in old]}, {"selectors": [k.selector for k in keys]}
    record(acting_user=acting_user, origin=origin, action="dkim.rotate", obj=domain, domain=domain,
           before=before, after=after)  # fmt: skip
    return keys


@transaction.atomic
def dkim_disable(*, acting_user, domain: Domain, origin: str) -> None:
    """Stop signing; the keys stay published for the grace period."""
    _require(acting_user)
    retired = domain.dkim_keys.filter(retired_at__isnull=True).update(retired_at=timezone.now())
    if retired:
        record(acting_user=acting_user, origin=origin, action="dkim.disable", obj=domain, domain=domain)


def dkim_purge(now=None) -> int:
    """Delete the retired keys past their grace period (a periodic job)."""
    now = now or timezone.now()
    grace = datetime.timedelta(days=settings.MAIL_DKIM_GRACE_DAYS)
    deleted, _ = DkimKey.objects.filter(retired_at__lt=now - grace).delete()
    return deleted


# --- the key files Exim signs with ------------------------------------------------------


def install(directory: Path, group: str | None = None) -> dict:
    """Write the signing keys as Exim reads them and remove the rest; what changed, per domain.

    Each file is written beside its final name and renamed into place, so Exim never reads half
    a key. Directories 0750, key files 0640, both of ``group`` when given (Exim's group).
    """
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    gid = grp.getgrnam(group).gr_gid if group else None
    _own(directory, gid, 0o750)
    wanted: dict[str, dict[str, str]] = {}
    for key in DkimKey.objects.filter(retired_at__isnull=True).select_related("domain"):
        if key.domain.active:
            wanted.setdefault(key.domain.name, {})[key.selector] = key.private_key
    changed = {}
    for name, keys in wanted.items():
        folder = directory / name
        folder.mkdir(mode=0o750, exist_ok=True)
        _own(folder, gid, 0o750)
        for selector, private in keys.items():
            _write(folder / f"{selector}.pem", private, gid)
        _write(folder / "selectors", ":".join(sorted(keys)), gid)
        stale = [p for p in folder.iterdir() if p.suffix == ".pem" and p.stem not in keys]
        for path in stale:
            path.unlink()
        changed[name] = {"selectors": sorted(keys), "removed": sorted(p.stem for p in stale)}
    for folder in directory.iterdir():
        if folder.is_dir() and folder.name not in wanted and (folder / "selectors").exists():
            shutil.rmtree(folder)
            changed[folder.name] = {"selectors": [], "removed": ["all"]}
    return changed


def _own(path: Path, gid: int | None, mode: int) -> None:
    os.chmod(path, mode)
    if gid is not None:
        os.chown(path, -1, gid)


def _write(path: Path, text: str, gid: int | None) -> None:
    if path.exists() and path.read_text() == text:
        return
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        _own(Path(temporary), gid, 0o640)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
