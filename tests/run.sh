#!/usr/bin/env bash
# The one test command (README.md): installs what the tests need on a fresh
# Debian machine (run as root), then runs lint and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v ssh-keygen >/dev/null || need_pkgs+=(openssh-client)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests/run.sh: need root to install: ${need_pkgs[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd 2>/dev/null || true
# The real Azure and AWS CLIs + moto for tests/oidc.rs (cached venvs).
bash tests/cloud/setup.sh >/dev/null

cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets "$@"
