#!/usr/bin/env bash
# Runs the examples' workers against a real server (scripts/test calls this after the clients'
# checks, which build what the Node and Go workers use): a dev provider, `latchkey serve` on its
# embedded default in a scratch directory, a connection made with the CLI; the Python, Node and Go
# workers get its credential, the Python subscriber hears its refresh, and once it is revoked
# each worker says REVOKED.
# Needs the debug binary (`cargo build -p latchkey`) and Python 3 with venv; pip reaches PyPI.
# The worker uses the Python client (clients/python), installed from the checkout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)/python"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/python-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt" "$root/clients/python"

scratch="$(mktemp -d /tmp/latchkey-python.XXXXXX)"
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
grpc_port="$(free_port)"
provider_port="$(free_port)"
export PATH="$root/target/debug:$PATH"
export LATCHKEY_GRPC_ADDR="127.0.0.1:$grpc_port" LATCHKEY_HTTP_ADDR="127.0.0.1:0" LATCHKEY_ADMIN_ADDR="127.0.0.1:0"
export LATCHKEY_SERVER="http://127.0.0.1:$grpc_port"
# With NATS (scripts/test provides one), events are published to a stream of this run's own and
# the subscriber decodes a `refreshed` event's typed payload.
if [ -n "${LATCHKEY_TEST_NATS_URL:-}" ]; then
    run="py$(date +%s)$$"
    export LATCHKEY_NATS_URL="$LATCHKEY_TEST_NATS_URL" LATCHKEY_NATS_STREAM="LK_PY_$run"
    export LATCHKEY_NATS_SUBJECT_PREFIX="lkpy.$run"
fi
cd "$scratch"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$scratch"' EXIT
latchkey dev-provider --port "$provider_port" --secret-file demo.secret >provider.log 2>&1 &
pids+=($!)
LATCHKEY_ALLOW_LOOPBACK_PROVIDERS=true latchkey serve >serve.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do latchkey integrations list >/dev/null 2>&1 && break; sleep 0.2; done
integration=$(latchkey integrations create --name Demo --grant-type client-credentials \
    --token-url "http://127.0.0.1:$provider_port/token" --client-id demo \
    --client-secret-file demo.secret --quiet)
connection=$(latchkey connect client-credentials --integration "$integration" --tenant acme --quiet)

got="$("$venv/bin/python" "$here/worker.py" "$connection")"
echo "examples/python: $got"
case "$got" in
    "credential in header Authorization, "*) ;;
    *) echo "examples/python: expected a credential" >&2; exit 1 ;;
esac
if [ -n "${LATCHKEY_NATS_URL:-}" ]; then
    latchkey connections refresh "$connection" >/dev/null
    heard="$("$venv/bin/python" "$here/subscriber.py" "$connection")"
    echo "examples/python: $heard"
    case "$heard" in
        "refreshed connection-$connection version "*" token until "*) ;;
        *) echo "examples/python: expected the refreshed event, typed" >&2; exit 1 ;;
    esac
fi
# Node: the TypeScript client as clients/typescript/check.sh built it; Go: the Go client in the
# GOPATH clients/go/check.sh set up (both offline).
node_modules="$root/target/examples-node/node_modules"
mkdir -p "$node_modules/@latchkey"
ln -sfn "$root/clients/typescript" "$node_modules/@latchkey/client"
node_worker() { NODE_PATH="$node_modules" node "$root/examples/node/worker.js" "$1"; }
(cd "$root" && GO111MODULE=off GOPATH="$root/target/gopath:/usr/share/gocode" \
    GOCACHE="$root/target/gocache" go build -o "$root/target/examples-go-worker" ./examples/go/worker)
go_worker() { "$root/target/examples-go-worker" "$1"; }
for lang in node go; do
    got="$("${lang}_worker" "$connection")"
    echo "examples/$lang: $got"
    case "$got" in
        "credential in header Authorization, "*) ;;
        *) echo "examples/$lang: expected a credential" >&2; exit 1 ;;
    esac
done
latchkey connections revoke "$connection" >/dev/null
for lang in node go; do
    set +e
    refused="$("${lang}_worker" "$connection")"
    code=$?
    set -e
    echo "examples/$lang: $refused"
    if [ "$code" != 1 ] || [ "$refused" != "refused REVOKED: stop: the connection was revoked; connection $connection" ]; then
        echo "examples/$lang: expected the REVOKED reason (exit $code)" >&2
        exit 1
    fi
done
set +e
refused="$("$venv/bin/python" "$here/worker.py" "$connection")"
code=$?
set -e
echo "examples/python: $refused"
if [ "$code" != 1 ] || [ "$refused" != "refused FAILED_PRECONDITION REVOKED: stop: the connection was revoked; connection $connection" ]; then
    echo "examples/python: expected the REVOKED reason (exit $code)" >&2
    exit 1
fi
