#!/usr/bin/env bash
# The Go client's checks, offline: the generated code in v1/ checked against proto/ (buf and the
# protoc-gen-go/protoc-gen-go-grpc plugins), gofmt and go vet, and the tests against a real server
# (the workspace's debug binary, or LATCHKEY_BIN). Go and the libraries come from Debian
# (golang-go, golang-google-grpc-dev, golang-google-protobuf-dev, golang-github-golang-protobuf-1-5-dev,
# golang-google-genproto-dev, protoc-gen-go, protoc-gen-go-grpc): the module is built in GOPATH
# mode against /usr/share/gocode, no module proxy needed. scripts/test installs them and runs this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/generate.sh" --check
gopath="$root/target/gopath"
mkdir -p "$gopath/src/latchkey.dev/go"
ln -sfn "$here" "$gopath/src/latchkey.dev/go/latchkey"
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS="" GOCACHE="$root/target/gocache"
unformatted="$(gofmt -l "$here"/*.go)"
if [ -n "$unformatted" ]; then
    echo "clients/go: gofmt would change $unformatted" >&2
    exit 1
fi
cd "$gopath/src/latchkey.dev/go/latchkey"
go vet ./...
go test -count=1 ./...
