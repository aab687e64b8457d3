# Sourced by scripts/test and scripts/chaos: makes Postgres and NATS available and exports
# LATCHKEY_TEST_DATABASE_URL and LATCHKEY_TEST_NATS_URL:
#   1. the settings themselves when set;
#   2. else the local servers at 127.0.0.1:5432 and 127.0.0.1:4222 when they answer (with Docker:
#      `docker compose -f deploy/compose.yml --profile services up -d postgres-dev nats-dev`
#      provides both);
#   3. else Debian's postgresql and nats-server are installed (apt-get) and throwaway servers are
#      started on free ports, and stopped when the sourcing script exits.
# Also pg_dump and nats-server, which the black-box tests use themselves.

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        log "need to install $* but not running as root; set LATCHKEY_TEST_DATABASE_URL and LATCHKEY_TEST_NATS_URL"
        exit 1
    fi
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

scratch=""
cleanup() {
    if [ -n "$scratch" ]; then
        if [ -f "$scratch/pg/postmaster.pid" ]; then
            su postgres -s /bin/sh -c "'$pg_bin/pg_ctl' -D '$scratch/pg' -m fast stop" >/dev/null 2>&1 || true
        fi
        if [ -f "$scratch/nats.pid" ]; then
            kill "$(cat "$scratch/nats.pid")" 2>/dev/null || true
        fi
        if [ -f "$scratch/chromedriver.pid" ]; then
            kill "$(cat "$scratch/chromedriver.pid")" 2>/dev/null || true
        fi
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

make_scratch() {
    if [ -z "$scratch" ]; then
        scratch="$(mktemp -d /tmp/latchkey-test-services.XXXXXX)"
        chmod 755 "$scratch"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || shuf -i 20000-60000 -n 1
}

start_postgres() {
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
    pg_bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
    make_scratch
    local port
    port="$(free_port)"
    # The server runs as the postgres user: its data, socket and log live in directories it owns.
    mkdir -p "$scratch/pg" "$scratch/pg-run" && chown postgres "$scratch/pg" "$scratch/pg-run"
    su postgres -s /bin/sh -c "'$pg_bin/initdb' -D '$scratch/pg' -U postgres --auth=trust" >/dev/null
    # TLS on, as managed Postgres has it: a self-signed certificate for this run.
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$scratch/pg/server.key" -out "$scratch/pg/server.crt" >/dev/null 2>&1
    chown postgres "$scratch/pg/server.key" "$scratch/pg/server.crt"
    chmod 600 "$scratch/pg/server.key"
    su postgres -s /bin/sh -c "'$pg_bin/pg_ctl' -D '$scratch/pg' -l '$scratch/pg-run/log' -w \
        -o \"-p $port -k '$scratch/pg-run' -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c ssl=on\" start" >/dev/null
    export LATCHKEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    log "started a throwaway Postgres on 127.0.0.1:$port"
}

start_nats() {
    command -v nats-server >/dev/null 2>&1 || apt_install nats-server
    make_scratch
    local port
    port="$(free_port)"
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$scratch/nats" >"$scratch/nats.log" 2>&1 &
    echo $! >"$scratch/nats.pid"
    for _ in $(seq 1 50); do answers 127.0.0.1 "$port" && break; sleep 0.1; done
    export LATCHKEY_TEST_NATS_URL="nats://127.0.0.1:$port"
    log "started a throwaway NATS (JetStream) on 127.0.0.1:$port"
}

# LATCHKEY_TEST_THROWAWAY=1 skips the local servers (to check the fallback).
if [ -n "${LATCHKEY_TEST_DATABASE_URL:-}" ]; then
    log "Postgres from LATCHKEY_TEST_DATABASE_URL"
elif [ "${LATCHKEY_TEST_THROWAWAY:-0}" != 1 ] && answers 127.0.0.1 5432; then
    export LATCHKEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    log "Postgres at 127.0.0.1:5432"
else
    start_postgres
fi

if [ -n "${LATCHKEY_TEST_NATS_URL:-}" ]; then
    log "NATS from LATCHKEY_TEST_NATS_URL"
elif [ "${LATCHKEY_TEST_THROWAWAY:-0}" != 1 ] && answers 127.0.0.1 4222; then
    export LATCHKEY_TEST_NATS_URL="nats://127.0.0.1:4222"
    log "NATS at 127.0.0.1:4222"
else
    start_nats
fi

# The black-box tests check a pg_dump of their database, and start NATS servers of their own
# (to stop one mid-publication, or with NKey logins).
command -v pg_dump >/dev/null 2>&1 || apt_install postgresql-client
command -v nats-server >/dev/null 2>&1 || apt_install nats-server

