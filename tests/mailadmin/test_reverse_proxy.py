"""deploy/nginx/mailadmin.conf: nginx accepts it, and it sends what the panel's settings expect."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "nginx" / "mailadmin.conf"


def directives(name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^\s*{name}\s+([^;]*);", EXAMPLE.read_text(), re.M)]


def test_the_example_proxies_to_scripts_serve_with_the_headers_the_settings_read():
    serve = (ROOT / "scripts" / "serve").read_text()
    assert "${BIND:-127.0.0.1:8000}" in serve
    assert directives("proxy_pass") == ["http://127.0.0.1:8000"]
    headers = dict(value.split(None, 1) for value in directives("proxy_set_header"))
    assert headers["Host"] == "$http_host"
    # mailadmin.lib.clients reads X-Forwarded-For from TRUSTED_PROXIES ...
    assert headers["X-Forwarded-For"] == "$remote_addr"
    # ... and BEHIND_TLS_PROXY sets SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https").
    assert headers["X-Forwarded-Proto"] == "$scheme"
    settings = (ROOT / "mailadmin" / "settings.py").read_text()
    assert 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")' in settings
    for name in ("TRUSTED_PROXIES=127.0.0.1,::1", "BEHIND_TLS_PROXY=true", "ALLOWED_HOSTS="):
        assert name in EXAMPLE.read_text()
    assert any(value.startswith("443 ssl") for value in directives("listen"))


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (scripts/install.sh --test)")
def test_nginx_accepts_the_example(tmp_path):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=panel.example.org",
         "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = EXAMPLE.read_text()
    site = site.replace("/etc/letsencrypt/live/panel.example.org/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/panel.example.org/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-q", "-e", tmp_path / "error.log", "-p", tmp_path, "-c", tmp_path / "nginx.conf"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
