#!/usr/bin/env bash
# The Python client's checks, as a user installs it: a fresh virtualenv under target/, the
# package installed from the checkout (`pip install ./clients/python[test]`, dependencies from
# PyPI), the generated code checked against proto/, and the tests against a real server (the
# workspace's debug binary, or LATCHKEY_BIN). scripts/test runs this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/python-client-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "$here[test]"
"$here/generate.sh" --check
# The installed package, not the source tree: run from the tests' directory with the package
# from site-packages.
cd "$here/tests"
"$venv/bin/python" -c 'import latchkey, sys; sys.exit(0 if "site-packages" in latchkey.__file__ else 1)'
"$venv/bin/python" -m pytest -q -p no:cacheprovider
