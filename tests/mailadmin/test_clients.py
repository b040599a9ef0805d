"""mailadmin.lib.clients: when a request's client address is known, and what it is."""

import pytest

from mailadmin.lib.clients import client_address, parse_networks

PROXY = ["127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "direct", "expected"),
    [
        # no proxy configured: the connection is the client only when the operator says so, never loopback
        ("203.0.113.5", "", [], False, None),
        ("203.0.113.5", "", [], True, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", [], True, "203.0.113.5"),  # a client's own header is ignored
        ("127.0.0.1", "", [], True, None),
        ("::1", "198.51.100.1", [], True, None),
        ("::ffff:127.0.0.1", "", [], True, None),
        ("::ffff:203.0.113.5", "", [], True, "203.0.113.5"),
        ("", "", [], True, None),
        ("not an address", "", [], True, None),
        # through a trusted proxy: the right-most forwarded address that is not a trusted proxy
        ("127.0.0.1", "203.0.113.9", PROXY, False, "203.0.113.9"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.9", PROXY, False, "203.0.113.9"),
        ("::1", " 2001:db8::7 ", PROXY, False, "2001:db8::7"),
        ("10.0.0.3", "203.0.113.9, 10.0.0.2", ["10.0.0.0/24"], False, "203.0.113.9"),
        ("127.0.0.1", "", PROXY, True, None),  # the proxy itself, or a request that bypassed it
        ("127.0.0.1", "garbage", PROXY, False, None),
        ("127.0.0.1", "203.0.113.9, garbage", PROXY, False, None),
        ("127.0.0.1", "127.0.0.1", PROXY, False, None),  # only proxies: nobody known
        # a proxy that is not trusted: its header is not believed
        ("192.0.2.7", "203.0.113.9", PROXY, False, None),
        ("192.0.2.7", "203.0.113.9", PROXY, True, "192.0.2.7"),
    ],
)
def test_client_address(remote, forwarded, trusted, direct, expected):
    assert client_address(remote, forwarded, trusted=trusted, direct=direct) == expected


def test_parse_networks():
    assert [str(n) for n in parse_networks(["127.0.0.1", " 10.1.2.3/8", "", "::1"])] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    with pytest.raises(ValueError, match="'proxy.example' is not an IP address or network"):
        parse_networks(["proxy.example"])


def test_a_bad_trusted_proxy_setting_stops_the_panel_from_starting(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, TRUSTED_PROXIES="127.0.0.1,proxy.example", MAILADMIN_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.example' is not an IP address or network" in result.stderr
