#!/usr/bin/env bash
# Generates src/latchkey/v1 from proto/latchkey/v1 with a pinned grpcio-tools (its own protoc:
# nothing system-wide). `generate.sh --check` generates into a scratch directory and fails when
# the committed code differs (scripts/test runs the client's tests, which call it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/python-gen"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "grpcio-tools==1.66.2"
out="$here/src"
if [ "${1:-}" = "--check" ]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
rm -rf "$out/latchkey/v1"
mkdir -p "$out/latchkey/v1"
"$venv/bin/python" -m grpc_tools.protoc -I "$root/proto" -I "$root/third_party/googleapis" \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    "$root"/proto/latchkey/v1/*.proto
printf '"""Generated from proto/latchkey/v1 by generate.sh: do not edit."""\n' >"$out/latchkey/v1/__init__.py"
if [ "${1:-}" = "--check" ]; then
    if ! diff -r "$out/latchkey/v1" "$here/src/latchkey/v1" >/dev/null; then
        echo "clients/python: src/latchkey/v1 is not what proto/ generates; run clients/python/generate.sh" >&2
        diff -r "$out/latchkey/v1" "$here/src/latchkey/v1" | head -20 >&2
        exit 1
    fi
fi
