"""`manage.py install_mailconfig` into a scratch root, as an operator would run it on a host.

What is installed must pass the servers' own checks where it lies (exim -bV, doveconf -n,
systemd-analyze verify for the units and timers, nginx -t for the shipped proxy configuration);
a configuration that fails a check is refused and leaves the host as it was.
"""

# ruff: noqa: S603, S607 - these tests run the servers' own checkers by design

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from mailserver import install

pytestmark = pytest.mark.mailstack

SECRETS = {"LOOKUP_EXIM_PASSWORD": "exim-Secret1", "LOOKUP_DOVECOT_PASSWORD": "dovecot-Secret2"}
DEPLOY = Path(settings.BASE_DIR) / "deploy"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=mail.example.org"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def options(certificate, *extra: str) -> list[str]:
    cert, key = certificate
    sets = {**SECRETS, "MAIL_TLS_CERTIFICATE": cert, "MAIL_TLS_PRIVATE_KEY": key}
    return [arg for name, value in sets.items() for arg in ("--set", f"{name}={value}")] + list(extra)


def tree(root: Path) -> dict[str, str]:
    """Every file under root with its mode and content digest."""
    return {
        str(p.relative_to(root)): f"{p.stat().st_mode:o} {hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_install_puts_checked_files_in_debians_places(tmp_path, certificate, capsys):
    root = tmp_path / "root"
    stock = root / "etc" / "dovecot" / "conf.d" / "10-logging.conf"  # Debian's, not ours
    stock.parent.mkdir(parents=True)
    stock.write_text("log_path = /var/log/dovecot.log\n")
    call_command("install_mailconfig", *options(certificate, "--root", str(root), "--units"))
    out = capsys.readouterr().out
    assert "checked: exim -bV" in out and "checked: doveconf -n" in out and "checked: systemd-analyze verify" in out
    exim = root / "etc" / "exim4" / "exim4.conf"
    lua = root / "etc" / "dovecot" / "directory.lua"
    assert exim.stat().st_mode & 0o777 == 0o640 and lua.stat().st_mode & 0o777 == 0o640  # lookup passwords
    if connection.vendor != "sqlite":  # (on SQLite the servers read the file: no password)
        assert "exim-Secret1" in exim.read_text() and "dovecot-Secret2" in lua.read_text()
    assert not (root / "etc" / "dovecot" / "conf.d" / "10-logging.conf").exists(), "a stock file stayed included"
    assert (root / "etc" / "dovecot" / "conf.d.previous" / "10-logging.conf").exists(), "the old one is kept"
    # Where they lie, they still pass the servers' checks (conf.d is found beside dovecot.conf).
    for args in (["exim", "-bV", "-C", exim], ["doveconf", "-n", "-c", root / "etc" / "dovecot" / "dovecot.conf"]):
        done = subprocess.run(args, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    units = sorted((root / "etc" / "systemd" / "system").iterdir())
    names = {u.name for u in units}
    assert {"mailadmin.service", "mailadmin-worker.service", "mailadmin-usage.timer", "mailadmin-archive.timer",
            "mailadmin-daily.timer"} <= names  # fmt: skip
    for timer in (u for u in units if u.suffix == ".timer"):
        assert timer.with_suffix(".service").name in names, f"{timer.name} starts nothing"
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    panel = (root / "etc" / "systemd" / "system" / "mailadmin.service").read_text()
    assert f"WorkingDirectory={settings.MAIL_PANEL_DIRECTORY}\n" in panel and "@@" not in panel
    assert f"User={settings.MAIL_STORE_USER}\n" in (root / "etc/systemd/system/mailadmin-usage.service").read_text()

    # Again: the same files, and the ones replaced kept as .previous.
    before = {k: v for k, v in tree(root).items() if ".previous" not in k}
    call_command("install_mailconfig", *options(certificate, "--root", str(root), "--units"))
    after = {k: v for k, v in tree(root).items() if ".previous" not in k}
    assert after == before
    assert (root / "etc" / "exim4" / "exim4.conf.previous").read_text() == exim.read_text()


def test_a_configuration_that_fails_its_check_is_refused_and_nothing_changes(tmp_path, certificate):
    root = tmp_path / "root"
    call_command("install_mailconfig", *options(certificate, "--root", str(root)))
    before = tree(root)
    # A typo in the certificate's path: every value is well-formed, but Dovecot cannot read the file.
    wrong = options(certificate, "--root", str(root), "--set", f"MAIL_TLS_CERTIFICATE={tmp_path}/no-such-cert.pem")
    with pytest.raises(CommandError, match=r"(?s)doveconf -x refused the configuration.*no-such-cert\.pem"):
        call_command("install_mailconfig", *wrong)
    assert tree(root) == before
    assert not [p for p in root.rglob(".*") if p.is_file()], "a temporary file was left behind"


def test_a_unit_that_systemd_would_refuse_is_caught(tmp_path):
    rendered = tmp_path / "rendered"
    (rendered / "systemd").mkdir(parents=True)
    (rendered / "systemd" / "broken.service").write_text("[Service]\nExecStart=/no/such/program\n")
    with pytest.raises(install.InstallError, match="systemd-analyze verify refused"):
        install._run(["systemd-analyze", "verify", str(rendered / "systemd" / "broken.service")],
                     "systemd-analyze verify")  # fmt: skip


def test_the_shipped_reverse_proxy_configuration_passes_nginx_t(tmp_path, certificate):
    """deploy/nginx/mailadmin.conf in an nginx.conf of Debian's shape, with a real certificate."""
    cert, key = certificate
    site = (DEPLOY / "nginx" / "mailadmin.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/panel.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/panel.example.org/privkey.pem", str(key))
    assert str(cert) in site and str(key) in site, "the shipped file names its certificate where the test expects"
    (tmp_path / "mailadmin.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  include {tmp_path}/mailadmin.conf;\n}}\n"
    )
    done = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    broken = site.replace("proxy_pass http://127.0.0.1:8000;", "proxy_pass http://127.0.0.1:8000")
    (tmp_path / "mailadmin.conf").write_text(broken)
    done = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0, "nginx -t accepts anything: the check above proves nothing"
