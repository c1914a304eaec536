#!/bin/sh
# Entrypoint of tfpilot's local PostgreSQL 15 test image (see
# ../README.md). It follows the conventions of the public postgres image
# that testcontainers' postgres module relies on:
#
#   - POSTGRES_USER (default postgres), POSTGRES_PASSWORD (empty means
#     trust authentication), POSTGRES_DB (default: the user name);
#   - on first start it initialises $PGDATA, runs a temporary server on the
#     Unix socket only to create the database and run
#     /docker-entrypoint-initdb.d/*.sh|*.sql, stops it, then starts the
#     real server listening on 5432 — so "database system is ready to
#     accept connections" is logged twice, which is what the module's
#     wait strategy counts;
#   - arguments are postgres's: `postgres -c fsync=off`, or just `-c ...`.
set -eu

PGBIN=/usr/lib/postgresql/15/bin
PATH=$PGBIN:$PATH
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PATH PGDATA

if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	chmod 2775 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	user=${POSTGRES_USER:-postgres}
	db=${POSTGRES_DB:-$user}
	auth=${POSTGRES_HOST_AUTH_METHOD:-}
	if [ -z "$auth" ]; then
		if [ -n "${POSTGRES_PASSWORD:-}" ]; then auth=scram-sha-256; else auth=trust; fi
	fi

	pwfile=$(mktemp)
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		initdb --username="$user" --pwfile="$pwfile" -E UTF8 --no-locale \
			--auth-local=trust --auth-host="$auth" -D "$PGDATA"
	else
		initdb --username="$user" -E UTF8 --no-locale \
			--auth-local=trust --auth-host="$auth" -D "$PGDATA"
	fi
	rm -f "$pwfile"
	printf '\nlisten_addresses = '"'"'*'"'"'\n' >>"$PGDATA/postgresql.conf"
	printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

	# Temporary server: Unix socket only, so nothing connects over TCP
	# before the database exists.
	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p 5432" start

	if [ "$db" != postgres ]; then
		printf 'CREATE DATABASE :"db";\n' |
			psql -v ON_ERROR_STOP=1 -X -q -U "$user" -d postgres -v db="$db"
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh)
			echo "entrypoint: running $f"
			# shellcheck disable=SC1090 # the scripts are the caller's
			. "$f"
			;;
		*.sql) echo "entrypoint: running $f"; psql -v ON_ERROR_STOP=1 -X -U "$user" -d "$db" -f "$f" ;;
		*.sql.gz) echo "entrypoint: running $f"; gzip -dc "$f" | psql -v ON_ERROR_STOP=1 -X -U "$user" -d "$db" ;;
		*) echo "entrypoint: ignoring $f" ;;
		esac
	done

	pg_ctl -D "$PGDATA" -m fast -w stop
	echo "entrypoint: initialisation done; starting PostgreSQL"
fi

shift
exec postgres "$@"
