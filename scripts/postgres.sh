#!/usr/bin/env bash
# A throw-away local PostgreSQL 15 for tempolog's tests, benchmarks and demos.
#
#   scripts/postgres.sh start [DIR]   install Debian's postgresql when missing, start a server
#                                     on 127.0.0.1 and a free port with its data in DIR, create
#                                     the database `tempolog`, print its URL (idempotent: a
#                                     server already running in DIR just prints its URL)
#   scripts/postgres.sh url [DIR]     print the URL of the server running in DIR
#   scripts/postgres.sh stop [DIR]    stop that server at once and remove DIR with its data
#   scripts/postgres.sh watch PID [DIR]  stop it once process PID has ended, however it ended
#                                     (SIGKILL too); returns when DIR is gone: run it in the
#                                     background beside a test run or a benchmark
#   scripts/postgres.sh install       only install the package when missing
#
# DIR defaults to a directory under /tmp named after this checkout, so two checkouts never
# share a server. As root, the server runs as the `postgres` user (PostgreSQL refuses root).
# TEMPOLOG_PG_FSYNC=off starts it without fsync: for tests, whose data is thrown away.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
command=${1:-}
if [ "$command" = watch ]; then owner=${2:?usage: $0 watch PID [DIR]}; shift; fi
dir=${2:-/tmp/tempolog-pg-$(printf %s "$repo" | cksum | cut -d' ' -f1)}
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac  # the server runs elsewhere: absolute paths
database=tempolog

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

install() {
    bindir >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "PostgreSQL is missing: install Debian's postgresql package (as root)"
    echo "Installing PostgreSQL (postgresql)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir >/dev/null || die "postgresql installed, but no initdb under /usr/lib/postgresql"
}

# Run a server command as the user that owns the data: `postgres` when we are root, from /
# (the postgres user may not enter the directory we were started in, e.g. under /root).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

running() {
    [ -f "$dir/port" ] && as_owner "$(bindir)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

url() { echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/$database"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    install
    if running; then url; return 0; fi
    local bin
    bin=$(bindir)
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    as_owner test -w "$dir" ||
        die "the postgres user cannot write to $dir: give a directory it can reach (under /tmp)"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    local options="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
    options+=" -c max_connections=100 -c shared_buffers=128MB"
    [ "${TEMPOLOG_PG_FSYNC:-on}" = off ] && options+=" -c fsync=off -c full_page_writes=off"
    local attempt port
    for attempt in 1 2 3; do  # a free port can be taken between asking and binding
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
                -o "-p $port $options" start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            break
        fi
        [ "$attempt" = 3 ] && { tail -n 20 "$dir/server.log" >&2; die "the server did not start"; }
    done
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
    url
}

stop() {
    if [ -d "$dir/data" ] && bindir >/dev/null; then
        as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

# Poll, not wait: PID is not our child. A reused PID can only delay the stop, never hasten it.
watch() {
    while [ -d "$dir" ]; do
        if ! kill -0 "$owner" 2>/dev/null; then stop; return 0; fi
        sleep 1
    done
}

case "$command" in
    start) start ;;
    stop) stop ;;
    watch) watch ;;
    url) running || die "no server is running in $dir (scripts/postgres.sh start)"; url ;;
    install) install ;;
    *) echo "usage: $0 start|url|stop [DIR] | watch PID [DIR] | install" >&2; exit 2 ;;
esac
