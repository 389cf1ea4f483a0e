#!/usr/bin/env bash
# The demo: issue 4's one command after `tofu apply`, end to end and offline.
# A throwaway "VM" (an sshd on 127.0.0.1 with fresh keys, logging in as a
# throwaway user), the inventory exactly as OpenTofu writes it, the real
# Azure CLI logging in with a fake managed identity (tests/cloud/fake_azure.py),
# the real AWS CLI assuming a role on moto_server, and
#   ferry playbook playbooks/azure-aws-oidc.yml
# in the middle. Everything is removed at the end. Run as root (it installs
# openssh-server and the CLIs when missing, and creates the demo user).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates a throwaway login user)" >&2; exit 1; }
if [ ! -x /usr/sbin/sshd ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
mkdir -p /run/sshd

echo "== installing / reusing the cloud CLIs (tests/cloud/setup.sh)"
cache=$(bash tests/cloud/setup.sh | tail -n 1)
cargo build --quiet
FERRY="$repo/target/debug/ferry"

user=ferrydemo
work=$(mktemp -d)
chmod 755 "$work"
pids=()
created_user=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$created_user" = 1 ]; then userdel -r "$user" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$user"
  usermod -p '*' "$user" # no password, but not locked (sshd without PAM)
  created_user=1
fi
home=$(getent passwd "$user" | cut -d: -f6)
rm -rf "${home:?}"/.azure "$home"/.aws

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "== AWS: moto_server with a bucket, an IAM role and the SSM parameter /azure/oidc/role-arn"
moto_port=$(free_port)
"$cache/aws/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_port "$moto_port"
role_arn=$("$cache/aws/bin/python" tests/cloud/seed_moto.py "http://127.0.0.1:$moto_port" ferry-demo-bucket)
echo "role: $role_arn"

echo "== Azure: fake managed-identity endpoint (IMDS over HTTP, ARM over HTTPS)"
python3 tests/cloud/fake_azure.py --state-dir "$work/azure" 2>"$work/azure.log" &
pids+=($!)
for _ in $(seq 300); do [ -f "$work/azure/ports.json" ] && break; sleep 0.1; done
az_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/azure/ports.json")
sh tests/cloud/wrappers.sh "$work/bin" "$cache" "$az_port" "$work/azure/ca.pem" "$moto_port"

echo "== the VM: sshd on 127.0.0.1, login user $user, az/aws on its PATH"
port=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
# The key OpenTofu's tls_private_key writes: RSA in PEM (PKCS#1).
ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -f "$work/oidc-vm.pem"
cp "$work/oidc-vm.pem.pub" "$work/authorized_keys"
chmod 644 "$work/authorized_keys"
cat >"$work/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
SetEnv PATH=$work/bin:/usr/local/bin:/usr/bin:/bin
CFG
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
pids+=($!)
wait_port "$port"

cat >"$work/inventory.yml" <<INV
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

echo "== ferry playbook playbooks/azure-aws-oidc.yml"
# The control machine reads the role ARN from SSM (moto) with these keys.
mkdir -p "$work/control"
rc=0
(cd "$work/control" &&
  HOME="$work/control" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" \
    "$FERRY" playbook "$repo/playbooks/azure-aws-oidc.yml" -i "$work/inventory.yml") || rc=$?

echo "== on the VM"
ls -ld "$home/.aws"
ls -l "$home/.azure/vm-identity-token" "$home/.aws/config"
cat "$home/.aws/config"
exit "$rc"
