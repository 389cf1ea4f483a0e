#!/usr/bin/env bash
# Installs the real cloud CLIs that tests/oidc.rs and tests/demo.sh drive
# (offline afterwards): one venv with moto[server] + awscli, one with
# azure-cli (they pin conflicting dependencies, so they stay apart).
# Cached under $FERRY_CLOUD_CACHE (default /var/cache/ferry-test as root, so
# the unprivileged ssh test user can run the CLIs; ~/.cache/ferry-test
# otherwise), keyed on the pinned versions: a second run is a no-op. Prints
# the cache dir as its last stdout line. `setup.sh --check` installs nothing:
# it prints the dir if installed, else exits 3.
set -euo pipefail

MOTO_VERSION=5.2.5
AWSCLI_VERSION=1.46.3
AZURE_CLI_VERSION=2.91.0

if [ -n "${FERRY_CLOUD_CACHE:-}" ]; then
  root=$FERRY_CLOUD_CACHE
elif [ "$(id -u)" = 0 ]; then
  root=/var/cache/ferry-test
else
  root=$HOME/.cache/ferry-test
fi
key="moto-$MOTO_VERSION-awscli-$AWSCLI_VERSION-az-$AZURE_CLI_VERSION"
dir="$root/$key"

if [ -f "$dir/done" ]; then
  echo "$dir"
  exit 0
fi
# --check: only tell whether it is installed (exit 3 when not).
[ "${1:-}" = --check ] && exit 3

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
# Debian's python3 needs python3-venv (ensurepip) to make venvs.
if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests/cloud/setup.sh: need root to install python3-venv" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-venv >/dev/null
fi

mkdir -p "$root"
chmod 755 "$root"
exec 9>"$root/.lock"
flock 9
[ -f "$dir/done" ] && { echo "$dir"; exit 0; }

start=$(date +%s)
# venvs name their interpreter by absolute path: build them in place. A
# half-built one (no "done") is thrown away first.
rm -rf "$dir"
mkdir -p "$dir"
# Both installs run at once: they wait on downloads more than on the CPU.
( "$py" -m venv "$dir/aws" &&
  "$dir/aws/bin/pip" install -q "moto[server]==$MOTO_VERSION" "awscli==$AWSCLI_VERSION"
) >"$dir/aws.log" 2>&1 &
aws_pid=$!
( "$py" -m venv "$dir/az" &&
  "$dir/az/bin/pip" install -q "azure-cli==$AZURE_CLI_VERSION"
) >"$dir/az.log" 2>&1 &
az_pid=$!
ok=1
wait "$aws_pid" || { ok=0; cat "$dir/aws.log" >&2; }
wait "$az_pid" || { ok=0; cat "$dir/az.log" >&2; }
[ "$ok" = 1 ] || { echo "tests/cloud/setup.sh: install failed" >&2; exit 1; }
echo "$key" >"$dir/done"
echo "tests/cloud/setup.sh: installed in $(($(date +%s) - start)) s" >&2
echo "$dir"
