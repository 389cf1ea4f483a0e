//! Host-side file plumbing shared by the file modules: the POSIX-shell prelude
//! (stat, sha1, attributes, failure reporting), the atomic-write script, the
//! probe script, and the parser for what those scripts print.
//!
//! Protocol: a script prints a nonce line, then `key=value` lines (newlines in
//! values travel as `\x01`), and optionally one framed data block
//! (`<nonce>-data <len>` followed by exactly `len` bytes). Anything before the
//! nonce is ignored, so login-shell chatter cannot confuse us.

use std::collections::HashMap;

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::mode::{octal4, ModeSpec};
use super::{arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::{shell_quote, ConnError, ExecOutput, ExecRequest, HostIdent};

/// Ansible's `MAX_FILE_SIZE_FOR_DIFF` default (104448 bytes).
pub const MAX_DIFF_SIZE: u64 = 104_448;

/// Shell functions every file script needs (`ExecRequest::lib`: the host
/// shell defines them once). `ferry_st` fills `fs_*` (GNU/BusyBox `stat -c`,
/// falling back to BSD `stat -f`); `ferry_attrs` applies
/// `FO`/`FG`/`ferry_mode` (or only decides, when `ck=1`). `um` is the umask,
/// `me_u`/`me_g` the fs uid/gid (Linux; empty elsewhere).
pub const LIB: &str = r#"ferry_kv() {
  case $2 in
    *"
"*) printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' '\001')" ;;
    *) printf '%s=%s\n' "$1" "$2" ;;
  esac
}
ferry_fail() { ferry_kv msg "$1"; echo failed=1; exit 0; }
# The umask and ids from /proc (builtins only) save forks; `$(umask)` elsewhere.
um= me_u= me_g=
{ while read -r fk f1 f2 f3 f4; do
    case $fk in Umask:) um=$f1 ;; Uid:) me_u=$f4 ;; Gid:) me_g=$f4; break ;; esac
  done </proc/self/status; } 2>/dev/null
[ -n "$um" ] || um=$(umask)
um=$((0$um))
ferry_st() {
  fs_ex=0
  # A missing path costs no process (and no BSD-stat fallback attempt).
  [ -e "$1" ] || [ -L "$1" ] || return 1
  fs_l=$(stat $2 -c '%f %u %g %s %Y %X %Z %h %i %d %b %o %U %G' -- "$1" 2>/dev/null) ||
  fs_l=$(stat $2 -f '%Xp %u %g %z %m %a %c %l %i %d %b %k %Su %Sg' -- "$1" 2>/dev/null) || return 1
  set -f; set -- $fs_l; set +f
  [ $# -ge 14 ] || return 1
  fs_raw=$((0x$1)) fs_uid=$2 fs_gid=$3 fs_size=$4 fs_mtime=$5 fs_atime=$6 fs_ctime=$7 fs_nlink=$8 fs_ino=$9
  shift 9
  fs_dev=$1 fs_blocks=$2 fs_bsize=$3 fs_user=$4 fs_group=$5 fs_ex=1
}
ferry_report() {
  echo "${1}exists=$fs_ex"
  [ "$fs_ex" = 1 ] || return 0
  printf '%s\n' "${1}raw=$fs_raw" "${1}uid=$fs_uid" "${1}gid=$fs_gid" "${1}size=$fs_size" \
    "${1}mtime=$fs_mtime" "${1}atime=$fs_atime" "${1}ctime=$fs_ctime" "${1}nlink=$fs_nlink" \
    "${1}ino=$fs_ino" "${1}dev=$fs_dev" "${1}blocks=$fs_blocks" "${1}bsize=$fs_bsize" \
    "${1}user=$fs_user" "${1}group=$fs_group"
}
ferry_isdir() { [ "$fs_ex" = 1 ] && [ $((fs_raw & 61440)) = 16384 ]; }
ferry_isreg() { [ "$fs_ex" = 1 ] && [ $((fs_raw & 61440)) = 32768 ]; }
ferry_sha1() {
  fs_sum=$( { sha1sum < "$1" || shasum -a 1 < "$1" || sha1 -q < "$1"; } 2>/dev/null) || { fs_sum=; return 1; }
  fs_sum=${fs_sum%% *}
}
ferry_data() { echo "$N-data $fs_size"; head -c "$fs_size" -- "$1"; echo; }
ferry_chown() {
  chown -- "$FO" "$1" 2>/dev/null && return 0
  id -u -- "$FO" >/dev/null 2>&1 || ferry_fail "chown failed: failed to look up user $FO"
  ferry_fail "chown failed: [Errno 1] Operation not permitted: '$1'"
}
ferry_chgrp() {
  chgrp -- "$FG" "$1" 2>/dev/null && return 0
  ferry_fail "chgrp failed: failed to look up group $FG"
}
ferry_attrs() {
  fa=0
  if [ -n "$FO" ] && [ "$FO" != "$fs_user" ] && [ "$FO" != "$fs_uid" ]; then
    fa=1; [ "$ck" = 1 ] || ferry_chown "$1"
  fi
  if [ -n "$FG" ] && [ "$FG" != "$fs_group" ] && [ "$FG" != "$fs_gid" ]; then
    fa=1; [ "$ck" = 1 ] || ferry_chgrp "$1"
  fi
  if [ "$FMS" = 1 ]; then
    m=$((fs_raw & 4095)); fa_old=$m; d=0; ferry_isdir && d=1
    ferry_mode
    if [ "$m" != "$fa_old" ]; then
      fa=1; [ "$ck" = 1 ] || chmod "$(printf %o "$m")" -- "$1" 2>/dev/null || ferry_fail "chmod failed on $1"
    fi
  fi
  [ "$fa" = 0 ] || echo attrs_changed=1
}
"#;

/// `content_cmd` for content sent as the command's stdin. On the persistent
/// host shell, stdin without NUL bytes is also in `__ferry_in`, and printf
/// (a builtin) writes it without starting `cat`.
pub const STDIN_CONTENT: &str =
    "if [ -n \"${__ferry_in+x}\" ]; then printf '%s' \"$__ferry_in\"; else cat; fi";

/// `name='value'` for the script's header.
pub fn var(name: &str, value: &str) -> String {
    format!("{name}={}\n", shell_quote(value))
}

/// A path for the host shell: `~` becomes `$HOME`, the rest is quoted.
pub fn path_expr(p: &str) -> String {
    super::command::shell_path(p)
}

/// Start of every file script: the nonce marker and the check flag (run
/// with [`run_script`], which supplies [`LIB`]).
pub fn header(nonce: &str, check: bool) -> String {
    format!("N={nonce}\necho \"$N\"\nck={}\n", u8::from(check))
}

/// `mode`/`owner`/`group` as a module asked for them.
#[derive(Clone, Debug, Default)]
pub struct Attrs {
    pub mode: Option<ModeSpec>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl Attrs {
    pub fn from_args(args: &Args) -> Result<Attrs, ModResult> {
        let mode = ModeSpec::parse(args.get("mode")).map_err(failed)?;
        Ok(Attrs {
            mode,
            owner: arg_str(args, "owner").filter(|s| !s.is_empty()),
            group: arg_str(args, "group").filter(|s| !s.is_empty()),
        })
    }

    /// Shell that sets `FO`, `FG`, `FMS` and defines `ferry_mode`. A
    /// `preserve` mode copies `$src_mode`, which the caller must set.
    pub fn shell(&self) -> String {
        let mut s = var("FO", self.owner.as_deref().unwrap_or(""));
        s.push_str(&var("FG", self.group.as_deref().unwrap_or("")));
        match &self.mode {
            None => s.push_str("FMS=0\nferry_mode() { :; }\n"),
            Some(ModeSpec::Preserve) => s.push_str("FMS=1\nferry_mode() { m=$src_mode; }\n"),
            Some(m) => s.push_str(&format!("FMS=1\nferry_mode() {{ {}; }}\n", m.shell())),
        }
        s
    }
}

/// What an atomic write should do (see [`write_script`]).
pub struct WriteSpec<'a> {
    /// Shell expression for the destination (from [`path_expr`]); may be
    /// reassigned by `pre` (copy's "dest is a directory").
    pub dest: String,
    /// Extra shell run after `P` is set and before anything is inspected.
    pub pre: String,
    pub attrs: &'a Attrs,
    /// sha1 of the wanted content; equal content is not rewritten.
    pub want_sha1: String,
    /// Shell command that prints the new content (e.g. `cat`, for stdin).
    pub content_cmd: String,
    /// Replace an existing file whose content differs (copy's `force`).
    pub force: bool,
    pub backup: bool,
    /// Validation command with `%s` for the temporary file.
    pub validate: Option<String>,
    /// Create missing parent directories.
    pub mkdirs: bool,
    /// Resolve a symlink at `dest` and write its target (editing modules).
    pub follow: bool,
    /// Send the old content (when text-sized) before replacing it, for diffs.
    pub want_before: bool,
    /// Message when the destination is a directory (`None`: not an error).
    pub dir_msg: Option<String>,
    /// Length of the content, when the control side knows it: a file this
    /// script creates can then be described without another `stat`.
    pub size: Option<u64>,
    /// Report the file after writing it (editing modules need only the
    /// report of a file that was left alone).
    pub final_stat: bool,
}

/// The one-exec write: inspect `P`, compare checksums, write through a
/// temporary file in the same directory (mode 0600 from `mktemp` while the
/// content is written, then chown/chmod to the final attributes, validate,
/// backup, `mv -f`),
/// then fix attributes of an unchanged file, and report the final stat.
pub fn write_script(nonce: &str, check: bool, w: &WriteSpec<'_>) -> String {
    let mut s = header(nonce, check);
    s.push_str(&w.attrs.shell());
    s.push_str(&format!("P={}\n", w.dest));
    s.push_str(&var("W", &w.want_sha1));
    s.push_str(&w.pre);
    s.push('\n');
    if w.follow {
        s.push_str("if [ -L \"$P\" ]; then P=$(readlink -f -- \"$P\") || ferry_fail \"cannot resolve $P\"; fi\n");
    }
    match &w.validate {
        Some(v) => {
            let cmd = v.replace("%s", "\"$T\"");
            s.push_str(&format!("ferry_validate() {{ {cmd}\n}}\n"));
        }
        None => s.push_str("ferry_validate() { :; }\n"),
    }
    s.push_str(&format!(
        "ferry_content() {{ {}\n}}\nforce={}\nbk={}\nmkd={}\nwb={}\nval={}\nfin={}\nWSIZE={}\n",
        w.content_cmd,
        u8::from(w.force),
        u8::from(w.backup),
        u8::from(w.mkdirs),
        u8::from(w.want_before),
        u8::from(w.validate.is_some()),
        u8::from(w.final_stat),
        w.size.map(|n| n.to_string()).unwrap_or_default(),
    ));
    if let Some(msg) = &w.dir_msg {
        s.push_str(&var("DIRMSG", msg));
    } else {
        s.push_str("DIRMSG=\n");
    }
    s.push_str(WRITE_BODY);
    s
}

const WRITE_BODY: &str = r#"ferry_write() {
  case "$P" in */*) D=${P%/*}; [ -n "$D" ] || D=/ ;; *) D=. ;; esac
  if [ ! -d "$D" ]; then
    [ "$mkd" = 1 ] && mkdir -p -- "$D" 2>/dev/null || ferry_fail "Destination directory $D does not exist"
  fi
  # The nonce makes the name unique; noclobber (`set -C`) opens it with
  # O_EXCL, so an existing file (or a planted link) is never written through.
  T="$D/.ferry_tmp.$N"
  trap 'rm -f "$T" "$T.err"' EXIT
  echo "tmp=$T"
  if [ "$fs_ex" = 1 ]; then m=$((fs_raw & 4095)); d=0; else m=$((438 & ~um)); d=0; fi
  [ "$FMS" = 1 ] && ferry_mode
  # The file is born with its final permission bits (umask set to their
  # complement), and one open both creates and writes it, so a 0400 mode
  # does not lock us out and the content is never more readable than asked.
  fw_u=$((~m & 511))
  umask $(((fw_u >> 6 & 7) * 100 + (fw_u >> 3 & 7) * 10 + (fw_u & 7)))
  set -C
  ferry_content > "$T"; fw_rc=$?
  set +C
  umask $(((um >> 6 & 7) * 100 + (um >> 3 & 7) * 10 + (um & 7)))
  if [ "$fw_rc" != 0 ]; then
    [ -e "$T" ] || ferry_fail "Destination $D not writable"
    ferry_fail "failed to write content to $T"
  fi
  # An existing file keeps its owner; one we own already needs no chown.
  if [ -n "$FO" ]; then ferry_chown "$T"; elif [ "$fs_ex" = 1 ] && ! [ -O "$P" ]; then chown "$fs_uid" "$T" 2>/dev/null; fi
  if [ -n "$FG" ]; then ferry_chgrp "$T"; elif [ "$fs_ex" = 1 ]; then chgrp "$fs_gid" "$T" 2>/dev/null; fi
  # Creation cannot set execute, setuid/setgid or sticky bits (and chown
  # clears setuid/setgid): those need a chmod, after any chown.
  if [ $((m & ~438)) != 0 ]; then
    chmod "$(printf %o "$m")" "$T" || ferry_fail "chmod failed on $T"
  fi
  if [ "$val" = 1 ]; then
    vout=$(ferry_validate 2>"$T.err" </dev/null); vrc=$?
    if [ "$vrc" != 0 ]; then
      ferry_kv vout "$vout"; ferry_kv verr "$(cat "$T.err")"; echo "vrc=$vrc"; echo validate_failed=1; exit 0
    fi
  fi
  if [ "$bk" = 1 ] && [ "$fs_ex" = 1 ]; then
    # Ansible names backups with its pid. Commands run in a subshell of a
    # long-lived host shell whose $$ never changes; /proc/self is this one.
    { read -r bpid _ </proc/self/stat; } 2>/dev/null || bpid=$$
    B="$P.$bpid.$(date +%Y-%m-%d@%H:%M:%S)~"
    cp -p -- "$P" "$B" 2>/dev/null || ferry_fail "Could not make backup of $P to $B"
    ferry_kv backup_file "$B"
  fi
  mv -f -- "$T" "$P" || ferry_fail "Unable to move $T to $P"
  [ "$val" = 1 ] && rm -f "$T.err"
  trap - EXIT
  wrote=1
}
# A file this script created where nothing was (no owner or group asked) is
# described from what is known instead of another `stat` process: the mode
# it was born with, the bytes written, and this shell's fs uid/gid, whose
# names the control side passes (KID, KUN, KGN) once a report has shown them.
# A setgid directory hands its own group down, so that case is stat'ed.
ferry_born() {
  [ "$fs_ex" = 0 ] && [ -n "$WSIZE" ] && [ -z "$FO$FG" ] && [ -n "$me_g" ] || return 1
  echo "me_uid=$me_u"; echo "me_gid=$me_g"
  [ "$KID" = "$me_u $me_g" ] && ! [ -g "$D" ] || return 1
  fs_ex=1 fs_raw=$((32768 | m)) fs_uid=$me_u fs_gid=$me_g fs_size=$WSIZE fs_user=$KUN fs_group=$KGN
  fs_mtime= fs_atime= fs_ctime= fs_nlink=1 fs_ino= fs_dev= fs_blocks= fs_bsize=
}
ferry_st "$P"
if ferry_isdir && [ -n "$DIRMSG" ]; then ferry_fail "$DIRMSG"; fi
ferry_kv dest "$P"
ferry_report pre_
same=0 wrote=0 fs_sum=
# `-f` follows a symlink: equal content behind a link is left alone, as Ansible does.
if [ -f "$P" ] && [ -n "$W" ]; then ferry_sha1 "$P" && [ "$fs_sum" = "$W" ] && same=1; fi
if [ "$same" = 0 ]; then
  if [ "$fs_ex" = 1 ] && [ "$force" = 0 ]; then
    echo not_forced=1
  else
    echo content_changed=1
    if [ "$wb" = 1 ] && ferry_isreg && [ "$fs_size" -le 104448 ]; then ferry_data "$P"; fi
    [ "$ck" = 1 ] || ferry_write
  fi
fi
[ "$wrote" = 1 ] && [ "$fin" = 0 ] && exit 0
if [ "$ck" = 0 ] || [ "$same" = 1 ]; then
  # Only a new file needs a new stat; its checksum is the one we wrote, and an
  # untouched file's was computed above.
  if [ "$wrote" = 1 ]; then ferry_born || ferry_st "$P"; fi
  [ "$fs_ex" = 1 ] && ferry_attrs "$P"
  [ "$fa" = 1 ] && [ "$ck" = 0 ] && ferry_st "$P"
  ferry_report ""
  if ferry_isreg; then
    if [ "$wrote" = 1 ] && [ -n "$W" ]; then echo "checksum=$W"
    elif [ "$wrote" = 0 ] && [ -n "$fs_sum" ]; then echo "checksum=$fs_sum"
    else ferry_sha1 "$P" && echo "checksum=$fs_sum"; fi
  fi
fi
exit 0
"#;

/// One exec that reports `P`'s metadata, whether attributes would change, and
/// its content (editing modules read here, decide in Rust, then write).
pub fn probe_script(nonce: &str, dest: &str, attrs: &Attrs, follow: bool) -> String {
    let mut s = header(nonce, true);
    s.push_str(&attrs.shell());
    s.push_str(&format!("P={dest}\n"));
    if follow {
        s.push_str("if [ -L \"$P\" ]; then P=$(readlink -f -- \"$P\") || ferry_fail \"cannot resolve $P\"; fi\n");
    }
    s.push_str(
        "ferry_st \"$P\"\nferry_kv dest \"$P\"\nferry_report pre_\n\
         if [ \"$fs_ex\" = 1 ]; then ferry_attrs \"$P\"; fi\n\
         if ferry_isreg; then [ -r \"$P\" ] || ferry_fail \"Unable to read $P: permission denied\"; ferry_data \"$P\"; fi\nexit 0\n",
    );
    s
}

/// What a script reported.
#[derive(Debug, Default)]
pub struct Report {
    pub kv: HashMap<String, String>,
    pub data: Option<Vec<u8>>,
}

impl Report {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.kv.get(k).map(String::as_str)
    }
    pub fn flag(&self, k: &str) -> bool {
        self.get(k) == Some("1")
    }
    /// The file as seen under `prefix` (`pre_` before, `` after).
    pub fn stat(&self, prefix: &str) -> FileStat {
        let n = |k: &str| -> u64 {
            self.get(&format!("{prefix}{k}"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let s = |k: &str| -> String {
            self.get(&format!("{prefix}{k}"))
                .unwrap_or_default()
                .to_string()
        };
        FileStat {
            exists: self.flag(&format!("{prefix}exists")),
            raw: n("raw") as u32,
            uid: n("uid"),
            gid: n("gid"),
            size: n("size"),
            mtime: n("mtime"),
            atime: n("atime"),
            ctime: n("ctime"),
            nlink: n("nlink"),
            ino: n("ino"),
            dev: n("dev"),
            blocks: n("blocks"),
            bsize: n("bsize"),
            user: s("user"),
            group: s("group"),
        }
    }
}

/// Parse a script's output. A missing marker means the script never ran
/// properly; that becomes a failed result carrying the host's stderr.
pub fn parse_report(out: &ExecOutput, nonce: &str) -> Result<Report, ModResult> {
    let buf = &out.stdout;
    let marker = format!("{nonce}\n");
    let Some(start) = find(buf, marker.as_bytes()) else {
        let mut r = failed(format!(
            "file operation failed on the host (rc={}): {}",
            out.rc,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        r.insert("rc".into(), Value::from(out.rc));
        return Err(r);
    };
    let data_tag = format!("{nonce}-data ");
    let mut rep = Report::default();
    let mut i = start + marker.len();
    while i < buf.len() {
        let end = buf[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |p| i + p);
        let line = &buf[i..end];
        i = end + 1;
        if let Some(len) = line.strip_prefix(data_tag.as_bytes()) {
            let len: usize = String::from_utf8_lossy(len).trim().parse().unwrap_or(0);
            let stop = (i + len).min(buf.len());
            rep.data = Some(buf[i.min(buf.len())..stop].to_vec());
            // The block is followed by one newline of framing.
            i = stop + 1;
            continue;
        }
        let line = String::from_utf8_lossy(line);
        if let Some((k, v)) = line.split_once('=') {
            rep.kv.insert(k.to_string(), v.replace('\u{1}', "\n"));
        }
    }
    if rep.flag("failed") {
        let mut r = failed(rep.get("msg").unwrap_or("failed").to_string());
        if let Some(d) = rep.get("dest") {
            r.insert("path".into(), Value::String(d.to_string()));
        }
        return Err(r);
    }
    Ok(rep)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.starts_with(needle) {
        return Some(0);
    }
    // The marker must begin a line.
    let mut nl = Vec::with_capacity(needle.len() + 1);
    nl.push(b'\n');
    nl.extend_from_slice(needle);
    hay.windows(nl.len())
        .position(|w| w == nl.as_slice())
        .map(|p| p + 1)
}

/// Run a script and parse its report; `Ok(Err(_))` is a module failure.
pub async fn run_script(
    ctx: &ModuleCtx<'_>,
    nonce: &str,
    script: String,
    stdin: Option<Vec<u8>>,
) -> Result<Result<Report, ModResult>, ConnError> {
    let ident = ctx.conn.ident();
    let script = match &ident {
        Some(i) => format!(
            "KID='{} {}'\nKUN={}\nKGN={}\n{script}",
            i.uid,
            i.gid,
            shell_quote(&i.user),
            shell_quote(&i.group)
        ),
        None => script,
    };
    let out = ctx
        .conn
        .exec(&ExecRequest {
            command: script,
            stdin,
            env: ctx.env.clone(),
            timeout: None,
            // File scripts read their content only through STDIN_CONTENT.
            stdin_from_var: true,
            lib: Some(LIB),
        })
        .await?;
    let rep = parse_report(&out, nonce);
    if let Ok(r) = &rep {
        learn_ident(ctx, ident.as_ref(), r);
    }
    Ok(rep)
}

/// A report that names the shell's uid/gid and shows a file owned by both
/// teaches their names (see `ferry_born`).
fn learn_ident(ctx: &ModuleCtx<'_>, known: Option<&HostIdent>, rep: &Report) {
    let num = |k: &str| rep.get(k).and_then(|v| v.parse::<u64>().ok());
    let (Some(uid), Some(gid)) = (num("me_uid"), num("me_gid")) else {
        return;
    };
    let st = rep.stat("");
    if !st.exists || st.uid != uid || st.gid != gid || st.user.is_empty() || st.group.is_empty() {
        return;
    }
    let id = HostIdent {
        uid,
        gid,
        user: st.user,
        group: st.group,
    };
    if known != Some(&id) {
        ctx.conn.learn_ident(id);
    }
}

/// A file's metadata as the host's `stat` reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStat {
    pub exists: bool,
    pub raw: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    pub atime: u64,
    pub ctime: u64,
    pub nlink: u64,
    pub ino: u64,
    pub dev: u64,
    pub blocks: u64,
    pub bsize: u64,
    pub user: String,
    pub group: String,
}

impl FileStat {
    pub fn fmt(&self) -> u32 {
        self.raw & 0o170000
    }
    pub fn is_dir(&self) -> bool {
        self.exists && self.fmt() == 0o040000
    }
    pub fn is_reg(&self) -> bool {
        self.exists && self.fmt() == 0o100000
    }
    pub fn is_link(&self) -> bool {
        self.exists && self.fmt() == 0o120000
    }
    pub fn perm(&self) -> u32 {
        self.raw & 0o7777
    }
    /// The file module's name for what is there.
    pub fn state(&self) -> &'static str {
        if !self.exists {
            "absent"
        } else if self.is_dir() {
            "directory"
        } else if self.is_link() {
            "link"
        } else if self.nlink > 1 {
            "hard"
        } else {
            "file"
        }
    }

    /// The common keys of file results: gid, group, mode, owner, size, state, uid.
    pub fn add_keys(&self, r: &mut ModResult, state: &str) {
        r.insert("gid".into(), Value::from(self.gid));
        r.insert("group".into(), Value::String(self.group.clone()));
        r.insert("mode".into(), Value::String(octal4(self.perm())));
        r.insert("owner".into(), Value::String(self.user.clone()));
        r.insert("size".into(), Value::from(self.size));
        r.insert("state".into(), Value::String(state.to_string()));
        r.insert("uid".into(), Value::from(self.uid));
    }
}

/// sha1 as lowercase hex, like `sha1sum`.
pub fn sha1_hex(data: &[u8]) -> String {
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Text suitable for a diff, or `None` for binary content.
pub fn diff_text(data: &[u8]) -> Option<String> {
    if data.contains(&0) {
        return None;
    }
    String::from_utf8(data.to_vec()).ok()
}

/// Ansible's content-diff dict.
pub fn content_diff(before: &str, after: &str, bh: &str, ah: &str) -> Value {
    let mut d = serde_json::Map::new();
    d.insert("after".into(), Value::String(after.to_string()));
    d.insert("after_header".into(), Value::String(ah.to_string()));
    d.insert("before".into(), Value::String(before.to_string()));
    d.insert("before_header".into(), Value::String(bh.to_string()));
    Value::Object(d)
}

/// Python's `bytes.splitlines(True)`-like split on `\n` keeping terminators
/// (`\r\n` stays inside the line, which is what `readlines()` does).
pub fn readlines(s: &str) -> Vec<String> {
    s.split_inclusive('\n').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_coreutils() {
        assert_eq!(
            sha1_hex(b"hello\n"),
            "f572d396fae9206628714fb2ce00f72e94f2258f"
        );
    }

    #[test]
    fn report_with_data_block() {
        let n = "NONCE";
        let mut stdout = b"motd junk\nNONCE\na=1\nmsg=x\x01y\nNONCE-data 4\nab\ncd\nb=2\n".to_vec();
        let out = ExecOutput {
            rc: 0,
            stdout: std::mem::take(&mut stdout),
            stderr: vec![],
        };
        let r = parse_report(&out, n).unwrap();
        assert_eq!(r.get("a"), Some("1"));
        assert_eq!(r.get("msg"), Some("x\ny"));
        assert_eq!(r.data.as_deref(), Some(&b"ab\nc"[..]));
        // The framing newline after the block is consumed; "d" is garbage-safe.
        assert_eq!(r.get("b"), Some("2"));
    }

    #[test]
    fn missing_marker_fails() {
        let out = ExecOutput {
            rc: 127,
            stdout: b"".to_vec(),
            stderr: b"sh: boom".to_vec(),
        };
        let e = parse_report(&out, "N").unwrap_err();
        assert_eq!(e["failed"], true);
        assert!(e["msg"].as_str().unwrap().contains("boom"));
    }

    #[test]
    fn failed_flag_becomes_result() {
        let out = ExecOutput {
            rc: 0,
            stdout: b"N\nmsg=nope\nfailed=1\n".to_vec(),
            stderr: vec![],
        };
        assert_eq!(parse_report(&out, "N").unwrap_err()["msg"], "nope");
    }
}
