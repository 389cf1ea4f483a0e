#!/usr/bin/env bash
# Hand-written baseline: the same shell commands as the playbooks, run through
# multiplexed OpenSSH (one ControlMaster per host, one `ssh -S` per command),
# all hosts in parallel with a barrier after each task (Ansible's linear strategy).
# usage: sshmux.sh HOSTS_FILE WORKLOAD(oidc6|mix20) PORT KEY
# HOSTS_FILE lines: "name user home". Masters are children of this script (no -f,
# ControlPersist=no) so their CPU is counted with the script's.
set -u
hosts_file=$1 workload=$2 port=$3 key=$4
cp=$(mktemp -d /tmp/sshmux.XXXXXX)
trap 'rm -rf "$cp"' EXIT
opts=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
      -o LogLevel=ERROR -o PasswordAuthentication=no -i "$key" -p "$port")
mapfile -t lines < "$hosts_file"
fail=0
masters=()
for l in "${lines[@]}"; do
  read -r name user home <<<"$l"
  ssh "${opts[@]}" -o ControlMaster=yes -o ControlPersist=no -o ControlPath="$cp/$name" -N "$user@127.0.0.1" &
  masters+=($!)
done
for l in "${lines[@]}"; do
  read -r name user home <<<"$l"
  for _ in $(seq 3000); do [ -S "$cp/$name" ] && break; sleep 0.01; done
done
# run NAME CMD [STDIN_FILE]
r() {
  local name=$1 cmd=$2 in=${3:-/dev/null}
  ssh "${opts[@]}" -o ControlPath="$cp/$name" -o ControlMaster=no "x@127.0.0.1" "$cmd" < "$in"
}
# each: run the function "$1" for every host in parallel, then wait (task barrier)
each() {
  local f=$1 pids=()
  for l in "${lines[@]}"; do
    read -r name user home <<<"$l"
    "$f" "$name" "$user" "$home" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
}
# put NAME DEST MODE SRC: write to a temp file, chmod, rename (as ferry/ansible do)
put() { r "$1" "umask 077; t=\$(mktemp '$2.XXXXXX') && cat > \"\$t\" && chmod $3 \"\$t\" && mv -f \"\$t\" '$2'" "$4"; }

case $workload in
oidc6)
  t1() { r "$1" "test -e $3/login.json || echo '{\"tenant\": \"t-$1\", \"user\": \"$2\"}' > $3/login.json"; }
  t2() { r "$1" "echo '{\"accessToken\": \"tok-$1-0123456789abcdef\", \"expiresOn\": \"2030-01-01 00:00:00.000000\", \"tokenType\": \"Bearer\"}'" \
         | sed -n 's/.*"accessToken": "\([^"]*\)".*/\1/p' | tr -d '\n' > "$cp/$1.tok"; }
  t3() { put "$1" "$3/.oidc_token" 400 "$cp/$1.tok"; }
  t4() { r "$1" "mkdir -p $3/oidc && chmod 700 $3/oidc"; }
  t5() { printf '[oidc]\nissuer = https://login.example.invalid/%s/v2.0\nclient_id = bench-%s\nuser = %s\ntoken_file = %s/.oidc_token\nscopes = openid profile email\n' \
           "$1" "$1" "$2" "$3" > "$cp/$1.cfg"; put "$1" "$3/oidc/config.ini" 600 "$cp/$1.cfg"; }
  t6() { r "$1" "cat $3/oidc/config.ini" >/dev/null; }
  for t in t1 t2 t3 t4 t5 t6; do each $t; done
  ;;
mix20)
  for i in 1 2 3 4 5; do
    eval "d$i() { r \"\$1\" \"mkdir -p \$3/mix/d$i && chmod 755 \$3/mix/d$i\"; }"
    eval "c$i() { printf '# round $i on %s\nkey$i = value-%s\n' \"\$1\" \"\$2\" > \"\$cp/\$1.c$i\"; put \"\$1\" \"\$3/mix/d$i/f.conf\" 644 \"\$cp/\$1.c$i\"; }"
    eval "m$i() { r \"\$1\" \"cat \$3/mix/d$i/f.conf\" >/dev/null; }"
    eval "s$i() { r \"\$1\" \"test -e \$3/mix/d$i/count || grep -c key$i \$3/mix/d$i/f.conf > \$3/mix/d$i/count\"; }"
    for t in d$i c$i m$i s$i; do each $t; done
  done
  ;;
*) echo "unknown workload $workload" >&2; exit 2 ;;
esac
for l in "${lines[@]}"; do
  read -r name user home <<<"$l"
  ssh "${opts[@]}" -o ControlPath="$cp/$name" -O exit "x@127.0.0.1" 2>/dev/null &
done
wait
exit $fail
