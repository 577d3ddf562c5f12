#!/usr/bin/env bash
# Installs (if missing) and starts PostgreSQL and MariaDB on loopback for the storage/admin tests, and creates
# the `octopus` role/user (password `octopus`) with database `octopus_test` on both. Idempotent; run as root on
# Debian 12. Tests create and drop their own extra databases, so the user may create databases.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "test-dbs.sh: run as root (it installs packages and starts servers)" >&2
  exit 1
fi

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -e /usr/lib/x86_64-linux-gnu/libsqlite3.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/libsqlite3.so.0 ] || need+=(libsqlite3-dev)
[ -e /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}"
fi

# PostgreSQL: the Debian cluster listens on localhost:5432 by default.
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
pg_version=${pg_version:-15}
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
  pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'octopus') THEN
    CREATE ROLE octopus LOGIN PASSWORD 'octopus' CREATEDB;
    GRANT pg_signal_backend TO octopus;
  ELSE
    ALTER ROLE octopus LOGIN PASSWORD 'octopus' CREATEDB;
    GRANT pg_signal_backend TO octopus;
  END IF;
END
$$;
SQL
if ! su postgres -c "psql -qtAc \"select 1 from pg_database where datname='octopus_test'\"" | grep -q 1; then
  su postgres -c "createdb -O octopus octopus_test"
fi

# A private PostgreSQL cluster ("outage", port 5434) that only the database-outage tests use: they stop and start
# it, so their outage never disturbs tests running on the shared cluster above.
outage_port=5434
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="outage"' | grep -q .; then
  pg_createcluster "$pg_version" outage --port "$outage_port" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="outage" && $4=="online"' | grep -q .; then
  pg_ctlcluster "$pg_version" outage start
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -p $outage_port -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $outage_port -v ON_ERROR_STOP=1 -q" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'octopus') THEN
    CREATE ROLE octopus LOGIN PASSWORD 'octopus' CREATEDB;
  ELSE
    ALTER ROLE octopus LOGIN PASSWORD 'octopus' CREATEDB;
  END IF;
  GRANT pg_signal_backend TO octopus;
END
$$;
SQL
if ! su postgres -c "psql -p $outage_port -qtAc \"select 1 from pg_database where datname='octopus_test'\"" | grep -q 1; then
  su postgres -c "createdb -p $outage_port -O octopus octopus_test"
fi

# MariaDB: bind to loopback only.
if [ -d /etc/mysql/mariadb.conf.d ] && [ ! -f /etc/mysql/mariadb.conf.d/99-octopus-test.cnf ]; then
  printf '[mysqld]\nbind-address = 127.0.0.1\n' > /etc/mysql/mariadb.conf.d/99-octopus-test.cnf
fi
if ! mysqladmin -uroot status >/dev/null 2>&1; then
  service mariadb start >/dev/null
fi
for _ in $(seq 1 30); do
  mysqladmin -uroot status >/dev/null 2>&1 && break
  sleep 1
done
mysql -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'octopus'@'127.0.0.1' IDENTIFIED BY 'octopus';
CREATE USER IF NOT EXISTS 'octopus'@'localhost' IDENTIFIED BY 'octopus';
ALTER USER 'octopus'@'127.0.0.1' IDENTIFIED BY 'octopus';
ALTER USER 'octopus'@'localhost' IDENTIFIED BY 'octopus';
CREATE DATABASE IF NOT EXISTS octopus_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
GRANT ALL PRIVILEGES ON `octopus\_%`.* TO 'octopus'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `octopus\_%`.* TO 'octopus'@'localhost';
FLUSH PRIVILEGES;
SQL

echo "OCTOPUS_TEST_PG=postgresql://octopus:octopus@127.0.0.1:5432/octopus_test"
echo "OCTOPUS_TEST_PG_OUTAGE=postgresql://octopus:octopus@127.0.0.1:${outage_port}/octopus_test"
echo "OCTOPUS_TEST_MYSQL=octopus:octopus@tcp(127.0.0.1:3306)/octopus_test"
