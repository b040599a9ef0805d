#!/usr/bin/env bash
# Make sure MariaDB (socket, root without password) and PostgreSQL (trust for postgres
# on localhost) are running; start the Debian clusters when they are not.
set -euo pipefail
if ! mysqladmin --protocol=socket -uroot status >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    install -d -o mysql -g mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 50); do mysqladmin --protocol=socket -uroot status >/dev/null 2>&1 && break; sleep 0.2; done
  fi
fi
if ! pg_isready -q -h localhost; then
  if [ "$(id -u)" = 0 ]; then
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 50); do pg_isready -q -h localhost && break; sleep 0.2; done
    # trust for local connections as postgres, as on the CI machine
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! psql -U postgres -h localhost -c 'select 1' >/dev/null 2>&1; then
      sed -i 's/^\(local\|host\)\(.*\)\(peer\|scram-sha-256\|md5\)$/\1\2trust/' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
    fi
  fi
fi
