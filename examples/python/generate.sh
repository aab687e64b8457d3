#!/usr/bin/env bash
# Generates the Python bindings of proto/latchkey/v1 into examples/python/gen (not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
python="${PYTHON:-python3}"
rm -rf "$here/gen" && mkdir -p "$here/gen"
"$python" -m grpc_tools.protoc -I "$root/proto" \
    --python_out="$here/gen" --grpc_python_out="$here/gen" \
    "$root"/proto/latchkey/v1/*.proto
