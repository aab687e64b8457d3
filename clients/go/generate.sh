#!/usr/bin/env bash
# Generates v1/ (the Go bindings of proto/latchkey/v1) with buf (from the npm registry, under
# target/tools) and the protoc-gen-go/protoc-gen-go-grpc plugins on PATH. `generate.sh --check`
# generates into a scratch directory and fails when the committed code differs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
buf="$root/target/tools/node_modules/.bin/buf"
if [ ! -x "$buf" ]; then
    npm install --silent --prefix "$root/target/tools" @bufbuild/buf@1 >/dev/null
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp "$here/buf.gen.yaml" "$scratch/"
(cd "$scratch" && "$buf" generate --template buf.gen.yaml "$root/proto")
made="$scratch/gen/latchkey/v1"
if [ "${1:-}" = "--check" ]; then
    if ! diff -r "$made" "$here/v1" >/dev/null; then
        echo "clients/go: v1/ is not what proto/ generates; run clients/go/generate.sh" >&2
        diff -r "$made" "$here/v1" | head -20 >&2
        exit 1
    fi
    exit 0
fi
rm -rf "$here/v1"
cp -r "$made" "$here/v1"
