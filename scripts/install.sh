#!/usr/bin/env bash
# Install what the project needs on a Debian machine: system packages with apt (when
# root and missing) and the Python packages into .venv.
#   scripts/install.sh          what the panel needs
#   scripts/install.sh --test   also what the tests need (databases, Exim, Dovecot, ClamAV,
#                               SpamAssassin, Chromium, NSD as the tests' authoritative DNS)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(python3 python3-venv python3-dev build-essential pkg-config libmariadb-dev sqlite3 ca-certificates gettext)
EXTRAS=""
if [ "${1:-}" = "--test" ]; then
  EXTRAS="[test]"
  PKGS+=(mariadb-server mariadb-client postgresql postgresql-client
         exim4-daemon-heavy dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd
         dovecot-auth-lua lua-sql-mysql lua-sql-postgres lua-sql-sqlite3 swaks openssl
         clamav-daemon clamav spamd chromium chromium-driver fonts-dejavu-core nginx nsd pgbouncer)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  # Keep the packages' own services from starting (policy-rc.d 101) while installing:
  # the tests start their own private instances.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed$EXTRAS-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -e "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check ".$EXTRAS"
  touch "$stamp"
fi

# The panel's translations: locale/<language>/LC_MESSAGES/django.po compiled to .mo (the compiled
# catalogues are not kept in git). GNU gettext's msgfmt does it.
(cd locale && ../.venv/bin/python ../manage.py compilemessages -v 0)
