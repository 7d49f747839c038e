#!/usr/bin/env bash
# A PostgreSQL 15 hot standby on 127.0.0.1:5433 streaming from the local server on
# 127.0.0.1:5432, for the read-replica tests. Idempotent: run it as often as you like; it only
# does what is missing (the replication line in both pg_hba.conf, the cluster, the base backup,
# the start) and ends with the standby in recovery and answering.
#
# Needs root (or the postgres user's rights on /etc/postgresql and /var/lib/postgresql) and
# Debian's postgresql-common tools (pg_createcluster, pg_ctlcluster). Prints the standby's URL.
#
#   scripts/pg-standby.sh            # create or start the standby
#   scripts/pg-standby.sh --status   # say whether it streams, change nothing
set -euo pipefail

VERSION=15
PRIMARY_PORT=${DAM_PRIMARY_PORT:-5432}
STANDBY_PORT=${DAM_STANDBY_PORT:-5433}
NAME=${DAM_STANDBY_CLUSTER:-standby}
CONF=/etc/postgresql/$VERSION
DATA=/var/lib/postgresql/$VERSION/$NAME
HBA_LINE="host replication all 127.0.0.1/32 trust"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

psql_at() { # port, sql
  psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtqc "$2"
}

if [ "${1:-}" = "--status" ]; then
  psql_at "$STANDBY_PORT" "select case when pg_is_in_recovery() then 'standby' else 'primary' end" \
    || { echo "no server answers on $STANDBY_PORT"; exit 1; }
  exit 0
fi

if ! psql_at "$PRIMARY_PORT" "select 1" >/dev/null 2>&1; then
  echo "the primary does not answer on 127.0.0.1:$PRIMARY_PORT" >&2
  exit 1
fi

# The primary lets replication connections in from loopback.
primary_cluster=$(pg_lsclusters -h | awk -v p="$PRIMARY_PORT" '$3 == p { print $2; exit }')
if [ -z "$primary_cluster" ]; then
  echo "no local cluster listens on $PRIMARY_PORT (pg_lsclusters)" >&2
  exit 1
fi
if ! grep -qxF "$HBA_LINE" "$CONF/$primary_cluster/pg_hba.conf"; then
  echo "$HBA_LINE" >>"$CONF/$primary_cluster/pg_hba.conf"
  psql_at "$PRIMARY_PORT" "select pg_reload_conf()" >/dev/null
fi

# The standby cluster: created once, filled by a base backup that writes standby.signal and
# primary_conninfo (-R).
if ! pg_lsclusters -h | awk '{ print $1 "/" $2 }' | grep -qx "$VERSION/$NAME"; then
  pg_createcluster "$VERSION" "$NAME" -p "$STANDBY_PORT" >/dev/null
fi
if [ ! -f "$DATA/standby.signal" ]; then
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" stop -m fast >/dev/null 2>&1 || true
  find "$DATA" -mindepth 1 -delete
  as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast
fi
# The standby's own pg_hba.conf: trust from loopback, ahead of the packaged password lines
# (the first matching line wins).
for line in "host all all 127.0.0.1/32 trust" "$HBA_LINE"; do
  if ! grep -qxF "$line" "$CONF/$NAME/pg_hba.conf"; then
    sed -i "1i $line" "$CONF/$NAME/pg_hba.conf"
  fi
done

# Started (a stopped standby is started; a running one reloads its configuration).
if pg_lsclusters -h | awk -v n="$NAME" '$2 == n { print $4 }' | grep -q online; then
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" reload
else
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start
fi

for _ in $(seq 1 60); do
  if [ "$(psql_at "$STANDBY_PORT" "select pg_is_in_recovery()" 2>/dev/null)" = t ]; then
    # A paused replay (left by a test that stopped half-way) is resumed.
    if [ "$(psql_at "$STANDBY_PORT" "select pg_is_wal_replay_paused()")" = t ]; then
      psql_at "$STANDBY_PORT" "select pg_wal_replay_resume()" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$STANDBY_PORT/test"
    exit 0
  fi
  sleep 0.5
done
echo "the standby on 127.0.0.1:$STANDBY_PORT did not come up in recovery (see /var/log/postgresql/postgresql-$VERSION-$NAME.log)" >&2
exit 1
