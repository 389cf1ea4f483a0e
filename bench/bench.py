#!/usr/bin/env python3
"""ferry benchmark driver (run through bench/run.sh, as root).

Sets up a local fleet (one sshd on 127.0.0.1, N users as N hosts), runs
ferry / ansible-playbook / pyinfra / a multiplexed-OpenSSH script on it,
alternating tools, and prints medians, ranges, ratios, CPU and memory.

Subcommands:
  up N        create users, keys, sshd (in its own cgroup), inventories
  run N       the comparison (fleet must be up)
  rtt N       ferry through the delaying proxy (round trips per task)
  scale N     ferry alone on N hosts (memory per host connection)
  down        stop sshd, delete the users and the state dir
Environment: see bench/README.md (REPS, ANSIBLE_REPS, TOOLS, WORKLOADS, ...).
"""
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STATE = os.environ.get("BENCH_STATE", "/var/tmp/ferrybench")
VENV = os.environ.get("BENCH_VENV", os.path.join(HERE, ".venv"))
FERRY = os.environ.get("FERRY", os.path.join(REPO, "target/release/ferry"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(HERE, "results"))
USER_PREFIX = "benchuser"
KEY = os.path.join(STATE, "id_rsa_pem")
WL = os.path.join(HERE, "workloads")
TASKS = {"oidc6": 6, "mix20": 20, "ping1": 1, "empty0": 0, "noop20": 20, "true20": 20}
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


# ---------------------------------------------------------------- cgroups
def cgroup_root():
    """A writable cgroup v2 hierarchy (pure v2 at /sys/fs/cgroup, or the
    hybrid one at /sys/fs/cgroup/unified); None when there is none."""
    for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(os.path.join(base, "cgroup.controllers")):
            d = os.path.join(base, "ferrybench")
            try:
                os.makedirs(d, exist_ok=True)
                for sub in ("fleet", "control", "proxy"):
                    os.makedirs(os.path.join(d, sub), exist_ok=True)
                return d
            except OSError:
                continue
    return None


CG = cgroup_root() if os.geteuid() == 0 else None


def cg_usage_us(name):
    if not CG:
        return None
    with open(os.path.join(CG, name, "cpu.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "usage_usec":
                return int(v)
    return None


def cg_pids(name):
    try:
        with open(os.path.join(CG, name, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cg_kill(name):
    """Kill what is left in a cgroup (e.g. ControlPersist masters)."""
    if not CG:
        return
    for _ in range(50):
        pids = cg_pids(name)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def join_cgroup(name):
    def f():
        os.setsid()
        if CG:
            with open(os.path.join(CG, name, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
    return f


def proc_cpu_us(pid):
    """utime+stime+cutime+cstime of a process (the /proc fallback for sshd:
    the listener reaps its session children, which reap the shells)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
        return ticks * 1_000_000 // os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


# ---------------------------------------------------------------- fleet
def users(n):
    w = max(3, len(str(n)))
    return [(f"h{i:0{w}d}", f"{USER_PREFIX}{i:0{w}d}") for i in range(1, n + 1)]


def home_of(user):
    return os.path.join(STATE, "home", user)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sshd_pid():
    try:
        pid = int(open(os.path.join(STATE, "sshd.pid")).read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def fleet_up(n):
    os.makedirs(os.path.join(STATE, "home"), exist_ok=True)
    os.chmod(STATE, 0o755)
    if not os.path.exists(KEY):
        # The key Terraform's tls_private_key writes: RSA in PEM (PKCS#1).
        sh(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-m", "PEM", "-N", "", "-C", "bench", "-f", KEY])
        shutil.copy(KEY + ".pub", os.path.join(STATE, "authorized_keys"))
        os.chmod(os.path.join(STATE, "authorized_keys"), 0o644)
    if not os.path.exists(os.path.join(STATE, "host_key")):
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(STATE, "host_key")])
    t0 = time.time()
    made = 0
    for _, u in users(n):
        try:
            pwd.getpwnam(u)
        except KeyError:
            # -p '*': no password but not locked (sshd without PAM refuses locked
            # accounts even for keys). /bin/sh: no rc files on every command.
            sh(["useradd", "-M", "-d", home_of(u), "-s", "/bin/sh", "-p", "*", u],
               stdout=subprocess.DEVNULL)
            made += 1
        h = home_of(u)
        if not os.path.isdir(h):
            os.makedirs(h)
            pw = pwd.getpwnam(u)
            os.chown(h, pw.pw_uid, pw.pw_gid)
            os.chmod(h, 0o755)
    log(f"fleet: {n} users ready ({made} created in {time.time() - t0:.1f}s)")
    if sshd_pid():
        port = int(open(os.path.join(STATE, "port")).read())
        log(f"fleet: sshd already running on port {port} (pid {sshd_pid()})")
    else:
        port = free_port()
        cfg = f"""# ferry bench fleet: one sshd, many users
ListenAddress 127.0.0.1
Port {port}
HostKey {STATE}/host_key
PidFile {STATE}/sshd.pid
AuthorizedKeysFile {STATE}/authorized_keys
AllowUsers {USER_PREFIX}*
StrictModes no
UsePAM no
UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
MaxStartups 1000:30:2000
MaxSessions 200
LoginGraceTime 120
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
"""
        open(os.path.join(STATE, "sshd_config"), "w").write(cfg)
        open(os.path.join(STATE, "port"), "w").write(str(port))
        os.makedirs("/run/sshd", exist_ok=True)
        logf = open(os.path.join(STATE, "sshd.log"), "a")
        # sshd forks a session process per connection; all of them and the
        # users' shells inherit the fleet cgroup.
        subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", os.path.join(STATE, "sshd_config")],
                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                         preexec_fn=join_cgroup("fleet"))
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("sshd did not start; see " + os.path.join(STATE, "sshd.log"))
        log(f"fleet: sshd on 127.0.0.1:{port} (pid {sshd_pid()}), "
            f"cgroup {CG + '/fleet' if CG else 'NONE (host CPU from /proc of the sshd listener)'}")
    write_inventories(n, port)
    return port


def write_inventories(n, port, name="direct"):
    d = os.path.join(STATE, f"inv-{name}-{n}")
    os.makedirs(d, exist_ok=True)
    common = "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no"
    lines = ["# as `tofu output -raw ansible_inventory_yml` writes it, one host per user", "fleet:", "  hosts:"]
    for h, u in users(n):
        lines += [f"    {h}:",
                  "      ansible_host: 127.0.0.1",
                  f"      ansible_port: {port}",
                  f"      ansible_user: {u}",
                  f"      ansible_ssh_private_key_file: {KEY}",
                  f'      ansible_ssh_common_args: "{common}"',
                  f"      bench_home: {home_of(u)}"]
    open(os.path.join(d, "inventory.yml"), "w").write("\n".join(lines) + "\n")
    py = ["# pyinfra inventory: the same hosts", "fleet = ["]
    for h, u in users(n):
        py.append(f"    ({h!r}, {{'ssh_hostname': '127.0.0.1', 'ssh_port': {port}, 'ssh_user': {u!r}, "
                  f"'ssh_key': {KEY!r}, 'ssh_strict_host_key_checking': 'no', "
                  f"'ssh_known_hosts_file': '/dev/null', 'bench_home': {home_of(u)!r}}}),")
    py.append("]")
    open(os.path.join(d, "inventory.py"), "w").write("\n".join(py) + "\n")
    open(os.path.join(d, "hosts.txt"), "w").write(
        "".join(f"{h} {u} {home_of(u)}\n" for h, u in users(n)))
    for tuned in (False, True):
        cfg = ["[defaults]", "host_key_checking = False", "interpreter_python = auto_silent",
               "retry_files_enabled = False", f"local_tmp = {STATE}/ansible-local"]
        if tuned:
            cfg.append(f"forks = {n}")
        cfg.append("[ssh_connection]")
        if tuned:
            cfg.append("pipelining = True")
        open(os.path.join(d, f"ansible-{'tuned' if tuned else 'default'}.cfg"), "w").write("\n".join(cfg) + "\n")
    return d


def wipe_homes(n):
    """Fresh hosts: empty every user's HOME (authorized_keys lives outside)."""
    for _, u in users(n):
        h = home_of(u)
        for e in os.listdir(h):
            p = os.path.join(h, e)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)


def verify(n, workload):
    """How many hosts ended in the expected state."""
    ok = 0
    for h, u in users(n):
        home = home_of(u)
        try:
            if workload == "oidc6":
                tok = os.path.join(home, ".oidc_token")
                good = (open(tok).read() == f"tok-{h}-0123456789abcdef"
                        and os.stat(tok).st_mode & 0o777 == 0o400
                        and os.stat(os.path.join(home, "oidc")).st_mode & 0o777 == 0o700
                        and f"client_id = bench-{h}\n" in open(os.path.join(home, "oidc/config.ini")).read()
                        and os.path.exists(os.path.join(home, "login.json")))
            elif workload == "mix20":
                good = all(open(os.path.join(home, f"mix/d{i}/count")).read().strip() == "1" for i in range(1, 6))
            else:
                good = True
        except OSError:
            good = False
        ok += bool(good)
    return ok


def fleet_down():
    pid = sshd_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
    if CG:
        cg_kill("fleet")
    n = 0
    for p in pwd.getpwall():
        if p.pw_name.startswith(USER_PREFIX) and p.pw_dir.startswith(STATE):
            subprocess.run(["userdel", p.pw_name], stderr=subprocess.DEVNULL)
            n += 1
    shutil.rmtree(STATE, ignore_errors=True)
    if CG:
        for sub in ("fleet", "control", "proxy", ""):
            try:
                os.rmdir(os.path.join(CG, sub))
            except OSError:
                pass
    log(f"fleet: sshd stopped, {n} users deleted, {STATE} removed")


# ---------------------------------------------------------------- running tools
class MemSampler(threading.Thread):
    """Peak summed RSS of the control process tree (the control cgroup)."""

    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root = root_pid
        self.peak = 0
        self.stop = threading.Event()

    def pids(self):
        if CG:
            return cg_pids("control")
        # fallback: the process group (setsid in the child)
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.getpgid(int(d)) == self.root:
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def run(self):
        while not self.stop.is_set():
            tot = 0
            for p in self.pids():
                try:
                    with open(f"/proc/{p}/statm") as f:
                        tot += int(f.read().split()[1]) * PAGE
                except (OSError, IndexError):
                    pass
            self.peak = max(self.peak, tot)
            self.stop.wait(0.05)


def command_for(tool, workload, inv_dir, n, port, extra=()):
    if tool in ("ferry", "ferry-exec"):
        # ferry-exec: the same binary with one exec channel per command instead
        # of the persistent host shell, to compare the two designs
        env = {"FERRY_SSH_SHELL": "0"} if tool == "ferry-exec" else {}
        return [FERRY, "playbook", "-i", f"{inv_dir}/inventory.yml", "-f", str(n), *extra,
                f"{WL}/{workload}.yml"], env
    if tool.startswith("ansible"):
        mode = "tuned" if tool == "ansible-tuned" else "default"
        env = {"ANSIBLE_CONFIG": f"{inv_dir}/ansible-{mode}.cfg"}
        return [f"{VENV}/bin/ansible-playbook", "-i", f"{inv_dir}/inventory.yml", *extra,
                f"{WL}/{workload}.yml"], env
    if tool == "pyinfra":
        return [f"{VENV}/bin/pyinfra", "-y", "--parallel", str(n), f"{inv_dir}/inventory.py",
                f"{WL}/pyinfra_{workload}.py"], {}
    if tool == "sshmux":
        return ["bash", f"{WL}/sshmux.sh", f"{inv_dir}/hosts.txt", workload, str(port), KEY], {}
    raise ValueError(tool)


def run_once(tool, workload, inv_dir, n, port, label, extra=(), check_state=True):
    argv, env = command_for(tool, workload, inv_dir, n, port, extra)
    os.makedirs(RESULTS, exist_ok=True)
    out_path = os.path.join(RESULTS, f"{label}.log")
    e = dict(os.environ, **env)
    e.pop("SSH_AUTH_SOCK", None)
    e["PATH"] = f"{VENV}/bin:" + e.get("PATH", "")
    e["ANSIBLE_NOCOLOR"] = "1"
    cg_kill("control")
    host0 = cg_usage_us("fleet") if CG else proc_cpu_us(sshd_pid())
    ctl0 = cg_usage_us("control")
    with open(out_path, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=e,
                             stdin=subprocess.DEVNULL, preexec_fn=join_cgroup("control"))
        mem = MemSampler(p.pid)
        mem.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        mem.stop.set()
        mem.join()
    cg_kill("control")  # leftovers, e.g. Ansible's ControlPersist masters
    time.sleep(0.05)
    ctl = (cg_usage_us("control") - ctl0) / 1e6 if CG else None
    host1 = cg_usage_us("fleet") if CG else proc_cpu_us(sshd_pid())
    rc = os.waitstatus_to_exitcode(status)
    r = {
        "tool": tool, "workload": workload, "label": label, "n": n, "rc": rc,
        "wall": wall,
        "ctl_cpu_rusage": ru.ru_utime + ru.ru_stime,
        "ctl_cpu": ctl if ctl is not None else ru.ru_utime + ru.ru_stime,
        "host_cpu": (host1 - host0) / 1e6 if host0 is not None and host1 is not None else None,
        "maxrss_mb": ru.ru_maxrss / 1024,
        "tree_rss_mb": mem.peak / 2**20,
        "log": out_path,
    }
    if check_state and workload in ("oidc6", "mix20"):
        r["hosts_ok"] = verify(n, workload)
    if rc != 0 or r.get("hosts_ok", n) != n:
        log(f"  !! {label}: rc={rc} hosts_ok={r.get('hosts_ok')}/{n}; tail of {out_path}:")
        log("     " + "\n     ".join(open(out_path).read().splitlines()[-15:]))
    return r


def fmt_s(x):
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def summarize(results, n, title):
    """Rows per (workload, phase, tool): median wall, min-max, ratio to ferry,
    control CPU per host-task, host CPU per host-task, peak RSS."""
    groups = {}
    for r in results:
        groups.setdefault((r["workload"], r["phase"], r["tool"]), []).append(r)
    lines = [f"### {title}", "",
             "| workload | run | tool | wall median (s) | min–max (s) | × ferry | ctl CPU/host-task (ms) | "
             "host CPU/host-task (ms) | ctl max RSS (MB) | ctl tree RSS peak (MB) | ok |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for (wl, ph) in sorted({(k[0], k[1]) for k in groups}, key=lambda k: (k[0] != "oidc6", k[1] != "first", k)):
        ferry = groups.get((wl, ph, "ferry"))
        fmed = statistics.median(r["wall"] for r in ferry) if ferry else None
        for tool in ["ferry", "ferry-exec", "sshmux", "pyinfra", "ansible-tuned", "ansible-default"]:
            rs = groups.get((wl, ph, tool))
            if not rs:
                continue
            walls = [r["wall"] for r in rs]
            med = statistics.median(walls)
            ht = n * TASKS[wl]
            ctl = statistics.median(r["ctl_cpu"] for r in rs) / ht * 1000
            hc = [r["host_cpu"] for r in rs if r["host_cpu"] is not None]
            host = f"{statistics.median(hc) / ht * 1000:.2f}" if hc else "n/a"
            ok = all(r["rc"] == 0 and r.get("hosts_ok", n) == n for r in rs)
            ratio = f"{med / fmed:.1f}×" if fmed else "—"
            lines.append(
                f"| {wl} | {ph} | {tool} | {fmt_s(med)} | {fmt_s(min(walls))}–{fmt_s(max(walls))} | {ratio} | "
                f"{ctl:.2f} | {host} | {max(r['maxrss_mb'] for r in rs):.1f} | "
                f"{max(r['tree_rss_mb'] for r in rs):.1f} | {'yes' if ok else 'NO'} ({len(rs)} runs) |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- commands
def cmd_run(n):
    port = int(open(os.path.join(STATE, "port")).read())
    inv = write_inventories(n, port)
    reps = int(os.environ.get("REPS", "3"))
    areps = int(os.environ.get("ANSIBLE_REPS", "1"))
    tools = os.environ.get("TOOLS", "ferry,sshmux,pyinfra,ansible-tuned,ansible-default").split(",")
    workloads = os.environ.get("WORKLOADS", "oidc6,mix20").split(",")
    # ansible-default on the 20-task workload takes minutes; opt in with FULL=1
    skip = set() if os.environ.get("FULL") else {("ansible-default", "mix20")}
    results = []
    for wl in workloads:
        for rep in range(max(reps, areps)):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]  # alternate who goes first
            for tool in order:
                if (tool, wl) in skip:
                    continue
                if tool.startswith("ansible") and rep >= areps:
                    continue
                if not tool.startswith("ansible") and rep >= reps:
                    continue
                wipe_homes(n)
                for phase in ("first", "second"):
                    label = f"n{n}-{wl}-{tool}-{phase}-{rep}"
                    r = run_once(tool, wl, inv, n, port, label)
                    r["phase"] = phase
                    results.append(r)
                    log(f"  {label}: {r['wall']:.2f}s rc={r['rc']} ok={r.get('hosts_ok')}/{n} "
                        f"ctl={r['ctl_cpu']:.2f}s host={r['host_cpu'] or 0:.2f}s rss={r['maxrss_mb']:.1f}MB "
                        f"tree={r['tree_rss_mb']:.1f}MB")
    json.dump(results, open(os.path.join(RESULTS, f"run-n{n}.json"), "w"), indent=1)
    text = summarize(results, n, f"N={n} hosts (REPS={reps}, ANSIBLE_REPS={areps})")
    open(os.path.join(RESULTS, f"run-n{n}.md"), "w").write(text)
    print(text, flush=True)


def build_proxy():
    """Compile bench/delay_proxy.rs (standard library only) when it is newer than the binary."""
    src = os.path.join(HERE, "delay_proxy.rs")
    out = os.path.join(STATE, "delay_proxy")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        sh(["rustc", "-O", "--edition", "2021", "-o", out, src])
    return out


def start_proxy(port, delay_ms):
    pport, sport = free_port(), free_port()
    logf = open(os.path.join(RESULTS, "proxy.log"), "w")
    p = subprocess.Popen([build_proxy(), str(pport), str(port), str(delay_ms), str(sport)],
                         stdout=logf, stderr=logf, preexec_fn=join_cgroup("proxy"))
    p.stats_port = sport
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", pport), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    # What one round trip through it really costs (printed into the report).
    cal = subprocess.run([build_proxy(), "--calibrate", str(delay_ms)], capture_output=True, text=True)
    p.calibration = cal.stdout.strip()
    log(f"proxy: {p.calibration}")
    return p, pport


def proxy_turns(proxy):
    """Direction changes the proxy has seen so far (its stats port answers
    with its counters as one JSON line)."""
    try:
        with socket.create_connection(("127.0.0.1", proxy.stats_port), timeout=2) as c:
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)["turns"]
    except (OSError, ValueError, KeyError):
        return None


def cmd_rtt(n):
    port = int(open(os.path.join(STATE, "port")).read())
    delay = float(os.environ.get("DELAY_MS", "5"))
    rtt = 2 * delay / 1000
    reps = int(os.environ.get("RTT_REPS", "3"))
    os.makedirs(RESULTS, exist_ok=True)
    proxy, pport = start_proxy(port, delay)
    inv = write_inventories(n, pport, name="proxy")
    tools = os.environ.get("RTT_TOOLS", "ferry,sshmux").split(",")
    rows = []
    try:
        for limit in ([1, n] if n > 1 else [1]):
            for tool in tools:
                meas = {}
                turns = {}
                for rep in range(reps):
                    for wl, phase in (("empty0", "-"), ("ping1", "-"), ("oidc6", "first"), ("oidc6", "second"),
                                      ("mix20", "first"), ("noop20", "-"), ("true20", "-")):
                        if not tool.startswith("ferry") and wl in ("empty0", "ping1", "noop20", "true20"):
                            continue
                        if limit > 1 and wl in ("noop20", "true20"):
                            continue
                        if phase == "first":
                            wipe_homes(n)
                        turns0 = proxy_turns(proxy) if limit == 1 else None
                        if tool.startswith("ferry"):
                            extra = ("-l", "h" + "1".zfill(max(3, len(str(n))))) if limit == 1 else ()
                            r = run_once(tool, wl, inv, n, pport, f"rtt-{tool}-l{limit}-{wl}-{phase}-{rep}",
                                         extra=extra, check_state=False)
                        else:
                            # the script runs on a hosts file cut to `limit` lines
                            hf = os.path.join(inv, f"hosts-{limit}.txt")
                            open(hf, "w").writelines(open(os.path.join(inv, "hosts.txt")).readlines()[:limit])
                            argv = ["bash", f"{WL}/sshmux.sh", hf, wl, str(pport), KEY]
                            t0 = time.perf_counter()
                            rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
                            r = {"wall": time.perf_counter() - t0, "rc": rc}
                        meas.setdefault((wl, phase), []).append(r["wall"])
                        if turns0 is not None:
                            t1 = proxy_turns(proxy)
                            if t1 is not None:
                                turns.setdefault((wl, phase), []).append(t1 - turns0)
                        if r["rc"] != 0:
                            log(f"  !! rtt {tool} {wl} rc={r['rc']}")
                med = {k: statistics.median(v) for k, v in meas.items()}
                conn = med.get(("ping1", "-"))
                empty = med.get(("empty0", "-"))
                for (wl, phase), t in med.items():
                    if wl in ("empty0", "ping1"):
                        continue
                    k = TASKS[wl]
                    row = {"tool": tool, "hosts": limit, "workload": wl, "phase": phase, "wall": t,
                           "connect_ping1": conn, "empty0": empty}
                    tw, tp = turns.get((wl, phase)), turns.get(("ping1", "-"))
                    if tw and tp:
                        # protocol round trips counted by the proxy: each is two
                        # direction changes; the 1-ping playbook's connect and
                        # first command subtracted, per remaining task
                        row["turn_rt_per_task"] = (statistics.median(tw) - statistics.median(tp)) / 2 / (k - 1)
                    if conn is not None:
                        # (wall - connect) / RTT / tasks; connect := the 1-ping-task playbook,
                        # so the ping's own round trip(s) are subtracted too (a slight undercount)
                        row["rt_per_task"] = (t - conn) / rtt / k
                        # same with connect := the 0-task playbook (an overcount if it does not connect)
                        row["rt_per_task_incl_connect"] = (t - (empty or 0)) / rtt / k
                    else:
                        row["rt_per_task_incl_connect"] = t / rtt / k
                    rows.append(row)
                    log(f"  rtt {tool} hosts={limit} {wl} {phase}: {t:.3f}s {row}")
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait()
    lines = [f"### Through the delaying proxy: {delay:g} ms each way (RTT {rtt * 1000:g} ms), median of {reps}", "",
             f"Proxy calibration (echo of 100 bytes through it): {getattr(proxy, 'calibration', '?')}.", "",
             "| tool | hosts | workload | run | wall (s) | connect (1-ping playbook, s) | 0-task playbook (s) | "
             "RT/task (wall−connect)/RTT/tasks | RT/task incl. connect | protocol RT/task (proxy turns) |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = f"{r['connect_ping1']:.3f}" if r.get("connect_ping1") is not None else "—"
        e = f"{r['empty0']:.3f}" if r.get("empty0") is not None else "—"
        rt = f"{r['rt_per_task']:.2f}" if "rt_per_task" in r else "—"
        tr = f"{r['turn_rt_per_task']:.2f}" if "turn_rt_per_task" in r else "—"
        lines.append(f"| {r['tool']} | {r['hosts']} | {r['workload']} | {r['phase']} | {r['wall']:.3f} | {c} | {e} | "
                     f"{rt} | {r['rt_per_task_incl_connect']:.2f} | {tr} |")
    text = "\n".join(lines) + "\n"
    json.dump(rows, open(os.path.join(RESULTS, f"rtt-n{n}.json"), "w"), indent=1)
    open(os.path.join(RESULTS, f"rtt-n{n}.md"), "w").write(text)
    print(text, flush=True)


def cmd_scale(n):
    port = int(open(os.path.join(STATE, "port")).read())
    inv = write_inventories(n, port)
    reps = int(os.environ.get("REPS", "3"))
    one = "h" + "1".zfill(max(3, len(str(n))))
    res = []
    for rep in range(reps):
        wipe_homes(n)
        r1 = run_once("ferry", "oidc6", inv, n, port, f"scale-n{n}-one-{rep}", extra=("-l", one), check_state=False)
        wipe_homes(n)
        rf = run_once("ferry", "oidc6", inv, n, port, f"scale-n{n}-first-{rep}")
        rs = run_once("ferry", "oidc6", inv, n, port, f"scale-n{n}-second-{rep}")
        res.append((r1, rf, rs))
        log(f"  scale n={n}: one host {r1['wall']:.2f}s {r1['maxrss_mb']:.1f}MB; first {rf['wall']:.2f}s rc={rf['rc']} "
            f"ok={rf['hosts_ok']}/{n} ctl={rf['ctl_cpu']:.2f}s host={rf['host_cpu'] or 0:.2f}s {rf['maxrss_mb']:.1f}MB; "
            f"second {rs['wall']:.2f}s rc={rs['rc']} ok={rs['hosts_ok']}/{n} {rs['maxrss_mb']:.1f}MB")
    med = lambda xs: statistics.median(xs)
    one_rss = med([a["maxrss_mb"] for a, _, _ in res])
    lines = [f"### Scale: ferry, oidc6, N={n} (median of {reps})", "",
             "| run | wall (s) | min–max | ctl CPU/host-task (ms) | host CPU/host-task (ms) | max RSS (MB) | "
             "RSS per host connection (KB) | ok |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for i, ph in ((1, "first"), (2, "second")):
        rs = [x[i] for x in res]
        w = [r["wall"] for r in rs]
        rss = med([r["maxrss_mb"] for r in rs])
        per = (rss - one_rss) * 1024 / (n - 1)
        ok = all(r["rc"] == 0 and r["hosts_ok"] == n for r in rs)
        hc = [r["host_cpu"] for r in rs if r["host_cpu"] is not None]
        lines.append(f"| {ph} | {med(w):.2f} | {min(w):.2f}–{max(w):.2f} | "
                     f"{med([r['ctl_cpu'] for r in rs]) / (n * 6) * 1000:.2f} | "
                     f"{(med(hc) / (n * 6) * 1000) if hc else float('nan'):.2f} | {rss:.1f} | {per:.0f} | "
                     f"{'yes' if ok else 'NO'} |")
    lines.append(f"\nOne host (`-l {one}`): max RSS {one_rss:.1f} MB; per-connection = (RSS(N) − RSS(1)) / (N − 1).\n")
    text = "\n".join(lines)
    open(os.path.join(RESULTS, f"scale-n{n}.md"), "w").write(text)
    print(text, flush=True)


def main():
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root (useradd, sshd, cgroups)")
    cmd = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 50
    os.makedirs(RESULTS, exist_ok=True)
    if cmd == "up":
        fleet_up(n)
        log("cgroup: " + (CG or "unavailable: host CPU is read from /proc of the sshd listener, "
                                "control CPU from getrusage of the children"))
    elif cmd == "run":
        cmd_run(n)
    elif cmd == "rtt":
        cmd_rtt(n)
    elif cmd == "scale":
        cmd_scale(n)
    elif cmd == "down":
        fleet_down()
    elif cmd == "wipe":
        wipe_homes(n)
    elif cmd == "once":  # once TOOL WORKLOAD N: a single run, for debugging
        port = int(open(os.path.join(STATE, "port")).read())
        inv = write_inventories(int(sys.argv[4]), port)
        r = run_once(sys.argv[2], sys.argv[3], inv, int(sys.argv[4]), port, "once")
        print(json.dumps(r, indent=1))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
