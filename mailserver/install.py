"""Installing the rendered configuration on a Debian mail host: render, check, put in place, reload.

``manage.py install_mailconfig`` calls ``install()``. The files are rendered into a scratch
directory and checked there with the servers' own parsers (``exim -bV -C``, ``doveconf -n -c`` and
``doveconf -x -c``, which also opens the certificate and key files the configuration names, and
``systemd-analyze verify`` for the units); a configuration that fails a check is refused and
nothing on the host changes. Then every file is written beside its destination under a temporary
name and renamed over it (a rename within a directory is atomic: a server reloading meanwhile
reads the old file or the new one, never half of one). Dovecot's ``conf.d`` is swapped as a whole
directory, so none of Debian's stock files stays included beside ours. What was there before is
kept as ``*.previous`` (one generation). ``root`` is a prefix for every destination (a scratch root
in the tests, ``/`` on a host); the paths inside the files stay those of the host.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mailserver import config as mailconfig

EXIM_CONF = Path("etc/exim4/exim4.conf")
DOVECOT_DIR = Path("etc/dovecot")
SYSTEMD_DIR = Path("etc/systemd/system")
# (file, group that must read it, mode): the Exim file and the Lua script hold lookup passwords.
EXIM_GROUP, DOVECOT_GROUP = "Debian-exim", "dovecot"


class InstallError(Exception):
    """A check failed or a file could not be put in place; the message says which and why."""


@dataclass
class Result:
    installed: list[Path] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)


def _run(args: list[str], what: str) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)  # noqa: S603
    except FileNotFoundError:
        raise InstallError(f"{what}: {args[0]} is not installed") from None
    if done.returncode != 0:
        raise InstallError(f"{what} refused the configuration, nothing was installed:\n{done.stdout}{done.stderr}")
    return " ".join(args[:2])


def check(rendered: Path, *, units: bool) -> list[str]:
    """The servers' own syntax checks over a rendered directory; InstallError on the first failure."""
    ran = [
        _run(["exim", "-bV", "-C", str(rendered / "exim4" / "exim4.conf")], "exim -bV"),
        _run(["doveconf", "-n", "-c", str(rendered / "dovecot" / "dovecot.conf")], "doveconf -n"),
        # -x reads the files the configuration names (ssl_cert = <FILE): -n alone accepts a typo there
        _run(["doveconf", "-x", "-c", str(rendered / "dovecot" / "dovecot.conf")], "doveconf -x"),
    ]
    if units:
        files = sorted(str(p) for p in (rendered / "systemd").iterdir())
        ran.append(_run(["systemd-analyze", "verify", *files], "systemd-analyze verify"))
    return ran


def _group_id(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _place(source: Path, dest: Path, mode: int, group: str | None) -> None:
    """Copy ``source`` to ``dest`` through a temporary file in dest's directory and a rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        gid = _group_id(group) if group else None
        if gid is not None and os.geteuid() == 0:
            os.chown(tmp, 0, gid)
        if dest.exists():
            shutil.copy2(dest, dest.with_name(dest.name + ".previous"))
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _swap_dir(new: Path, dest: Path) -> None:
    """Put directory ``new`` (beside ``dest``) in place of ``dest``; the old one becomes dest.previous."""
    previous = dest.with_name(dest.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if dest.exists():
        os.rename(dest, previous)
    os.rename(new, dest)


def _install_dovecot(rendered: Path, target: Path, result: Result) -> None:
    target.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".conf.d.", dir=target))
    try:
        for path in sorted((rendered / "dovecot" / "conf.d").iterdir()):
            shutil.copy2(path, staged / path.name)
            (staged / path.name).chmod(0o644)
        staged.chmod(0o755)
        _swap_dir(staged, target / "conf.d")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    result.installed.append(target / "conf.d")
    for name, mode, group in (("directory.lua", 0o640, DOVECOT_GROUP), ("dovecot.conf", 0o644, None)):
        _place(rendered / "dovecot" / name, target / name, mode, group)
        result.installed.append(target / name)


def install(
    root: Path, overrides: dict | None = None, *, units: bool = False, reload: bool = True, database=None
) -> Result:
    """Render, check, install under ``root`` and (on the host itself) reload Exim and Dovecot."""
    root = Path(root)
    result = Result()
    with tempfile.TemporaryDirectory(prefix="mailconfig-") as scratch:
        rendered = Path(scratch)
        mailconfig.render(rendered, overrides, database)
        result.checks = check(rendered, units=units)
        _place(rendered / "exim4" / "exim4.conf", root / EXIM_CONF, 0o640, EXIM_GROUP)
        result.installed.append(root / EXIM_CONF)
        _install_dovecot(rendered, root / DOVECOT_DIR, result)
        if units:
            for path in sorted((rendered / "systemd").iterdir()):
                _place(path, root / SYSTEMD_DIR / path.name, 0o644, None)
                result.installed.append(root / SYSTEMD_DIR / path.name)
    if reload and root.resolve() == Path("/"):
        if units:
            _run(["systemctl", "daemon-reload"], "systemctl daemon-reload")
            result.reloaded.append("systemd")
        for service in ("exim4", "dovecot"):
            _run(["systemctl", "reload-or-restart", service], f"systemctl reload-or-restart {service}")
            result.reloaded.append(service)
    return result
