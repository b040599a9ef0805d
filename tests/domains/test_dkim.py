"""DKIM keys: made, rotated, retired and purged by the service, installed as files for Exim."""

import base64
import datetime
import json
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from domains import dkim
from domains.models import DkimKey
from mailadmin.models import AuditEntry

pytestmark = pytest.mark.django_db


def enable(domain, acting_user=None):
    return dkim.dkim_enable(origin="test", acting_user=acting_user, domain=domain)


def test_enabling_makes_one_rsa_2048_and_one_ed25519_key_with_dated_selectors(personas):
    keys = {k.algorithm: k for k in enable(personas.org)}
    today = timezone.now().strftime("%Y%m%d")
    assert keys["rsa"].selector == f"mx{today}r" and keys["ed25519"].selector == f"mx{today}e"
    rsa = serialization.load_pem_private_key(keys["rsa"].private_key.encode(), None)
    assert rsa.key_size == 2048
    public = rsa.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert keys["rsa"].record_text == f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
    assert len(base64.b64decode(keys["ed25519"].public_key)) == 32
    assert enable(personas.org) == list(dkim.signing_keys(personas.org))  # again: the same keys
    assert AuditEntry.objects.filter(action="dkim.enable").count() == 1


def test_only_superusers_manage_keys(personas):
    with pytest.raises(PermissionDenied):
        enable(personas.org, acting_user=personas.admin_org)
    assert not DkimKey.objects.exists()


def test_a_rotation_signs_with_new_keys_and_keeps_the_old_published_for_the_grace(personas, settings):
    old = enable(personas.org)
    new = dkim.dkim_rotate(origin="test", acting_user=None, domain=personas.org)
    assert {k.selector for k in new}.isdisjoint({k.selector for k in old})  # never a reused name
    assert set(dkim.signing_keys(personas.org)) == set(new)
    assert set(dkim.published_keys(personas.org)) == set(new) | set(old)
    later = timezone.now() + datetime.timedelta(days=settings.MAIL_DKIM_GRACE_DAYS, hours=1)
    assert set(dkim.published_keys(personas.org, now=later)) == set(new)
    assert dkim.dkim_purge(now=later) == 2
    assert set(DkimKey.objects.all()) == set(new)


def test_rotating_a_domain_that_does_not_sign_says_so(personas):
    with pytest.raises(ValidationError, match="does not sign with DKIM: enable it first"):
        dkim.dkim_rotate(origin="test", acting_user=None, domain=personas.org)


def test_install_writes_the_signing_keys_for_exim_and_removes_what_no_longer_signs(personas, tmp_path):
    keys = enable(personas.org)
    target = tmp_path / "dkim"
    dkim.install(target)
    folder = target / "example.org"
    assert (folder / "selectors").read_text() == ":".join(sorted(k.selector for k in keys))
    for key in keys:
        path = folder / f"{key.selector}.pem"
        assert path.read_text() == key.private_key
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    new = dkim.dkim_rotate(origin="test", acting_user=None, domain=personas.org)
    dkim.install(target)
    assert sorted(p.name for p in folder.glob("*.pem")) == sorted(f"{k.selector}.pem" for k in new)
    dkim.dkim_disable(origin="test", acting_user=None, domain=personas.org)
    dkim.install(target)
    assert not folder.exists()


def test_the_lookup_views_never_carry_a_private_key(personas):
    from django.db import connection

    from mailserver.lookup import VIEWS

    enable(personas.org)
    private = DkimKey.objects.first().private_key
    with connection.cursor() as cursor:
        for view in VIEWS:
            cursor.execute(f"SELECT * FROM {view}")  # noqa: S608 - the project's own view names
            assert not any(private in str(row) for row in cursor.fetchall()), view


def test_cli_enable_show_and_records(personas):
    out = StringIO()
    call_command("dkim", "enable", "example.org", "--json", stdout=out)
    made = json.loads(out.getvalue())
    out = StringIO()
    call_command("dkim", "show", "example.org", "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert {k["record_name"] for k in shown} == {f"{k['selector']}._domainkey.example.org" for k in made}
    assert all(k["record"].startswith("v=DKIM1; k=") for k in shown)
    assert "PRIVATE KEY" not in out.getvalue()
