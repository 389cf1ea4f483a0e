#!/usr/bin/env bash
# ferry benchmark, one command (as root):   bash bench/run.sh [N]
#   N (default 50): hosts in the fleet (N users behind one sshd on 127.0.0.1).
# Steps: venv with ansible-core/pyinfra -> cargo build --release -> fleet up ->
#   comparison (all tools, alternating) -> ferry through a 10 ms RTT proxy -> fleet down.
# N > 100 runs the scale test instead (ferry alone; memory per host connection).
# Environment knobs (defaults): REPS=3 (ferry/pyinfra/sshmux repetitions), ANSIBLE_REPS=1,
#   TOOLS=ferry,sshmux,pyinfra,ansible-tuned,ansible-default, WORKLOADS=oidc6,mix20,
#   FULL=1 (also ansible-default on mix20), RTT=0 (skip the proxy part), RTT_REPS=3,
#   DELAY_MS=5, KEEP_FLEET=1 (leave users/sshd for the next run; `python3 bench/bench.py down` later),
#   BENCH_STATE=/var/tmp/ferrybench, BENCH_VENV=bench/.venv.
# Results: stdout, and bench/results/*.md|json|log.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
[ "$(id -u)" = 0 ] || { echo "bench: run as root (useradd, sshd, cgroups)" >&2; exit 1; }
[ -x /usr/sbin/sshd ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; }

VENV=${BENCH_VENV:-$PWD/bench/.venv}
export BENCH_VENV=$VENV
if [ ! -x "$VENV/bin/pyinfra" ] || [ ! -x "$VENV/bin/ansible-playbook" ]; then
  # ansible-core 2.20+ needs Python >= 3.12; on 3.11 the newest is 2.19.x.
  py=python3
  # Run the candidate, not just look it up: pyenv shims exist for versions
  # that are not selected and fail when run.
  for c in python3.13 python3.12; do "$c" -c 'import sys' >/dev/null 2>&1 && { py=$c; break; }; done
  if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then core="ansible-core"; else core="ansible-core<2.20"; fi
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q "$core" jmespath "pyinfra==3.10.0"
fi
v=$("$VENV/bin/ansible-playbook" --version); echo "${v%%$'\n'*}"
"$VENV/bin/pyinfra" --version
cargo build --release --quiet
target/release/ferry --version 2>/dev/null || true

# ferry holds one socket per host; sshd one per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

cleanup() {
  [ -n "${KEEP_FLEET:-}" ] && { echo "fleet kept (KEEP_FLEET); tear down with: python3 bench/bench.py down" >&2; return; }
  python3 bench/bench.py down || true
}
trap cleanup EXIT
python3 bench/bench.py up "$N"
echo "== machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024)" MB"}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$N" -gt 100 ]; then
  python3 bench/bench.py scale "$N"
else
  python3 bench/bench.py run "$N"
  [ "${RTT:-1}" = 0 ] || python3 bench/bench.py rtt "$N"
fi
