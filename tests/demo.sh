#!/usr/bin/env bash
# The demo: stand up a throwaway "VM" (an sshd on 127.0.0.1 with fresh keys),
# write the inventory exactly as OpenTofu would, and run ferry against it.
# Everything lives in a temp dir that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/sbin/sshd ]; then
  [ "$(id -u)" = 0 ] || { echo "demo: openssh-server is needed (run as root to install it)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
mkdir -p /run/sshd 2>/dev/null || true

cargo build --quiet
FERRY="$PWD/target/debug/ferry"

work=$(mktemp -d)
sshd_pid=""
cleanup() {
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

user=$(id -un)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
# The key OpenTofu's tls_private_key writes: RSA in PEM (PKCS#1).
ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -f "$work/oidc-vm.pem"
cp "$work/oidc-vm.pem.pub" "$work/authorized_keys"
cat > "$work/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
CFG
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

cat > "$work/inventory.yml" <<INV
oidc:
  hosts:
    127.0.0.1:
      ansible_host: 127.0.0.1
      ansible_port: $port
      ansible_ssh_user: $user
      ansible_ssh_private_key_file: $work/oidc-vm.pem
      ansible_ssh_common_args: "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no"
INV

echo "== inventory (as tofu output -raw ansible_inventory_yml writes it)"
cat "$work/inventory.yml"
echo "== ferry inventory --graph"
"$FERRY" inventory -i "$work/inventory.yml" --graph
echo "== ferry adhoc oidc -m ping"
"$FERRY" adhoc oidc -i "$work/inventory.yml" -m ping
echo "== ferry adhoc oidc -m shell -a 'echo hello from \$(hostname) as \$(id -un)'"
"$FERRY" adhoc oidc -i "$work/inventory.yml" -m shell -a 'echo hello from $(hostname) as $(id -un)'
