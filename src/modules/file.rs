//! `file`: make a path be a file (attributes only), directory, symlink, hard
//! link, touched file, or absent — one exec that inspects, decides, changes
//! and reports, with `recurse` walking the tree on the host.

use serde_json::{Map, Value};

use super::fs::{self, path_expr, var, Attrs, Report};
use super::spec::{check_args, ArgSpec, Param, Type, FILE_COMMON};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

pub const SPEC: ArgSpec = ArgSpec::module(&[
    &[
        Param::new("state", Type::Str).choices(&[
            "absent",
            "directory",
            "file",
            "hard",
            "link",
            "touch",
        ]),
        Param::aliased("path", &["dest", "name"], Type::Path).required(),
        Param::new("_original_basename", Type::Str),
        Param::new("recurse", Type::Bool),
        Param::new("force", Type::Bool),
        Param::new("follow", Type::Bool),
        Param::new("_diff_peek", Type::Bool),
        Param::new("src", Type::Path),
        Param::new("modification_time", Type::Str),
        Param::new("modification_time_format", Type::Str),
        Param::new("access_time", Type::Str),
        Param::new("access_time_format", Type::Str),
    ],
    FILE_COMMON,
]);

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "file", args) {
        return Ok(r);
    }
    let p = match Plan::parse(args) {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let nonce = super::command::nonce();
    let script = p.script(&nonce, ctx.check_mode);
    let rep = match fs::run_script(ctx, &nonce, script, None).await? {
        Ok(r) => r,
        Err(mut r) => {
            r.entry("path").or_insert(Value::String(p.path.clone()));
            return Ok(r);
        }
    };
    Ok(p.result(ctx, &rep))
}

struct Plan {
    path: String,
    state: Option<String>,
    src: Option<String>,
    recurse: bool,
    follow: bool,
    force: bool,
    attrs: Attrs,
    atime: Option<String>,
    mtime: Option<String>,
}

impl Plan {
    fn parse(args: &Args) -> Result<Plan, ModResult> {
        let path = arg_str(args, "path")
            .or_else(|| arg_str(args, "dest"))
            .or_else(|| arg_str(args, "name"))
            // Present (the spec checked) but null: Python's str of it is ''.
            .unwrap_or_default();
        let state = arg_str(args, "state");
        if let Some(s) = &state {
            if !["file", "directory", "link", "hard", "touch", "absent"].contains(&s.as_str()) {
                return Err(failed(format!(
                    "value of state must be one of: absent, directory, file, hard, link, touch, got: {s}"
                )));
            }
        }
        let recurse = arg_bool(args, "recurse", false)?;
        if recurse && state.as_deref().is_some_and(|s| s != "directory") {
            return Err(failed(
                "recurse option requires state to be 'directory'".to_string(),
            ));
        }
        let time = |k: &str| -> Result<Option<String>, ModResult> {
            match arg_str(args, k) {
                None => Ok(None),
                Some(t) if t == "now" || t == "preserve" => Ok(Some(t)),
                Some(t) => {
                    let fmt = arg_str(args, &format!("{k}_format"))
                        .unwrap_or_else(|| "%Y%m%d%H%M.%S".into());
                    let ok = fmt == "%Y%m%d%H%M.%S"
                        && t.len() == 15
                        && t.bytes().enumerate().all(|(i, b)| {
                            if i == 12 {
                                b == b'.'
                            } else {
                                b.is_ascii_digit()
                            }
                        });
                    if ok {
                        Ok(Some(t))
                    } else {
                        Err(failed(format!(
                            "Error while obtaining timestamp for time {t} using format {fmt}"
                        )))
                    }
                }
            }
        };
        Ok(Plan {
            path,
            state,
            src: arg_str(args, "src"),
            recurse,
            follow: arg_bool(args, "follow", true)?,
            force: arg_bool(args, "force", false)?,
            attrs: Attrs::from_args(args)?,
            atime: time("access_time")?,
            mtime: time("modification_time")?,
        })
    }

    fn script(&self, nonce: &str, check: bool) -> String {
        let mut s = fs::header(nonce, check);
        s.push_str(&self.attrs.shell());
        s.push_str(&format!("P={}\n", path_expr(&self.path)));
        s.push_str(&var("PN", &self.path));
        s.push_str(&format!(
            "S={}\nfol={}\nfrc={}\n",
            self.src
                .as_deref()
                .map(path_expr)
                .unwrap_or_else(|| "''".into()),
            u8::from(self.follow),
            u8::from(self.force)
        ));
        s.push_str(STATE_FN);
        s.push_str("ferry_st \"$P\"; ferry_state; prev=$fst; echo \"prev=$prev\"\n");
        s.push_str("[ \"$fs_ex\" = 1 ] && echo \"pre_raw=$fs_raw\" && echo \"pre_user=$fs_user\" && echo \"pre_group=$fs_group\"\n");
        let state = match self.state.as_deref() {
            Some(st) => st,
            None if self.recurse => "directory",
            None => "",
        };
        match state {
            "absent" => s.push_str(ABSENT),
            "directory" => {
                s.push_str(FOLLOW);
                s.push_str(DIRECTORY);
                if self.recurse {
                    s.push_str(RECURSE);
                }
            }
            "touch" => {
                s.push_str(FOLLOW);
                s.push_str(&touch_cmd(self.atime.as_deref(), self.mtime.as_deref()));
                s.push_str(TOUCH);
            }
            "link" => s.push_str(LINK),
            "hard" => s.push_str(HARD),
            "file" => {
                s.push_str(FOLLOW);
                s.push_str(FILE);
            }
            // No state: whatever is there, or `file` (which must exist).
            _ => {
                s.push_str(FOLLOW);
                s.push_str(CURRENT);
            }
        }
        s.push_str("ferry_st \"$P\"; ferry_report \"\"\nexit 0\n");
        s
    }

    fn result(&self, ctx: &ModuleCtx<'_>, rep: &Report) -> ModResult {
        let prev = rep.get("prev").unwrap_or("absent").to_string();
        let state = match self.state.as_deref() {
            Some(s) => s.to_string(),
            None if self.recurse => "directory".into(),
            None => rep.get("state").unwrap_or("file").to_string(),
        };
        let changed = rep.flag("changed") || rep.flag("attrs_changed");
        let mut r = ModResult::new();
        r.insert("changed".into(), Value::Bool(changed));
        let st = rep.stat("");
        let path = rep.get("dest").unwrap_or(&self.path).to_string();
        // Like Ansible's add_path_info, report what is there now.
        let now = if st.exists { st.state() } else { "absent" };
        match state.as_str() {
            "absent" => {
                r.insert("path".into(), Value::String(path.clone()));
                r.insert("state".into(), Value::String("absent".into()));
            }
            "link" | "hard" => {
                r.insert("dest".into(), Value::String(self.path.clone()));
                r.insert(
                    "src".into(),
                    Value::String(self.src.clone().unwrap_or_default()),
                );
                if st.exists {
                    st.add_keys(&mut r, now);
                } else {
                    r.insert("state".into(), Value::String(now.into()));
                }
            }
            _ => {
                r.insert("path".into(), Value::String(path.clone()));
                if st.exists {
                    st.add_keys(&mut r, now);
                } else {
                    r.insert("state".into(), Value::String(now.into()));
                }
            }
        }
        if ctx.diff {
            let mut before = Map::new();
            let mut after = Map::new();
            before.insert("path".into(), Value::String(self.path.clone()));
            after.insert("path".into(), Value::String(self.path.clone()));
            before.insert("state".into(), Value::String(prev.clone()));
            after.insert(
                "state".into(),
                Value::String(if changed { state.clone() } else { prev.clone() }),
            );
            let pre = rep.stat("pre_");
            if rep.flag("attrs_changed") && pre.exists && st.exists {
                if pre.perm() != st.perm() {
                    before.insert(
                        "mode".into(),
                        Value::String(super::mode::octal4(pre.perm())),
                    );
                    after.insert("mode".into(), Value::String(super::mode::octal4(st.perm())));
                }
                if pre.user != st.user {
                    before.insert("owner".into(), Value::String(pre.user.clone()));
                    after.insert("owner".into(), Value::String(st.user.clone()));
                }
                if pre.group != st.group {
                    before.insert("group".into(), Value::String(pre.group.clone()));
                    after.insert("group".into(), Value::String(st.group.clone()));
                }
            }
            let mut d = Map::new();
            d.insert("after".into(), Value::Object(after));
            d.insert("before".into(), Value::Object(before));
            r.insert("diff".into(), Value::Object(d));
        }
        r
    }
}

fn touch_cmd(atime: Option<&str>, mtime: Option<&str>) -> String {
    // `touch -t` takes Ansible's default time format as is.
    let part = |flag: &str, t: Option<&str>| -> Option<String> {
        match t {
            None | Some("now") => Some(format!("touch -c {flag} -- \"$P\"")),
            Some("preserve") => None,
            Some(stamp) => Some(format!("touch -c {flag} -t {stamp} -- \"$P\"")),
        }
    };
    let cmds: Vec<String> = [part("-a", atime), part("-m", mtime)]
        .into_iter()
        .flatten()
        .collect();
    if cmds.is_empty() {
        "ferry_touch() { tch=0; }\n".into()
    } else {
        format!(
            "ferry_touch() {{ tch=1; [ \"$ck\" = 1 ] || {{ {}; }}; }}\n",
            cmds.join(" && ")
        )
    }
}

/// `fst`: the file module's name for what `ferry_st` saw.
const STATE_FN: &str = r#"ferry_state() {
  if [ "$fs_ex" != 1 ]; then fst=absent
  elif [ $((fs_raw & 61440)) = 16384 ]; then fst=directory
  elif [ $((fs_raw & 61440)) = 40960 ]; then fst=link
  elif [ "$fs_nlink" -gt 1 ] 2>/dev/null; then fst=hard
  else fst=file; fi
}
"#;

const FOLLOW: &str = r#"if [ "$fol" = 1 ] && [ "$fst" = link ] && [ -e "$P" ]; then
  P=$(readlink -f -- "$P"); ferry_st "$P"; ferry_state
fi
"#;

const ABSENT: &str = r#"if [ "$fs_ex" = 1 ]; then
  echo changed=1
  [ "$ck" = 1 ] || rm -rf -- "$P" 2>/dev/null || ferry_fail "rmtree failed: cannot remove $PN"
fi
"#;

const FILE: &str = r#"if [ "$fs_ex" != 1 ]; then ferry_fail "file ($PN) is absent, cannot continue"; fi
case $fst in file|hard) ;; *) ferry_fail "file ($PN) is $fst, cannot continue" ;; esac
ferry_attrs "$P"
"#;

/// No `state:`: keep whatever is there (it must exist) and fix attributes.
const CURRENT: &str = r#"if [ "$fs_ex" != 1 ]; then ferry_fail "file ($PN) is absent, cannot continue"; fi
echo "state=$fst"
ferry_attrs "$P"
"#;

const DIRECTORY: &str = r#"if [ "$fs_ex" != 1 ]; then
  echo changed=1
  if [ "$ck" = 0 ] && [ "$FMS" = 1 ] && [ -z "$FO$FG" ]; then
    # Every missing directory, parents too, gets the mode, as Ansible does;
    # `mkdir -m` sets it exactly (umask aside) in one process, top down.
    m=$((511 & ~um)); d=1; ferry_mode
    fd_p=$P
    while [ "${#fd_p}" -gt 1 ] && [ "${fd_p%/}" != "$fd_p" ]; do fd_p=${fd_p%/}; done
    set --
    while [ ! -e "$fd_p" ] && [ ! -L "$fd_p" ]; do
      set -- "$fd_p" "$@"
      case $fd_p in */*) fd_p=${fd_p%/*} ;; *) break ;; esac
      [ -n "$fd_p" ] || break
    done
    mkdir -m "$(((m >> 9 & 7) * 1000 + (m >> 6 & 7) * 100 + (m >> 3 & 7) * 10 + (m & 7)))" -- "$@" 2>/dev/null ||
      ferry_fail "There was an issue creating $PN as requested"
  elif [ "$ck" = 0 ]; then
    mkdir -p -- "$P" 2>/dev/null || ferry_fail "There was an issue creating $PN as requested"
    ferry_st "$P"; ferry_attrs "$P"
  fi
elif [ "$fst" != directory ]; then
  ferry_fail "$PN already exists as a $fst"
else
  ferry_attrs "$P"
fi
"#;

const RECURSE: &str = r#"if [ -d "$P" ]; then
  find "$P" | while IFS= read -r f; do
    [ -L "$f" ] && continue
    ferry_st "$f" && ferry_attrs "$f"
  done
fi
"#;

const TOUCH: &str = r#"if [ "$fs_ex" != 1 ]; then
  echo changed=1
  if [ "$ck" = 0 ]; then
    : > "$P" 2>/dev/null || ferry_fail "Error, could not touch target: $PN"
    ferry_st "$P"; ferry_attrs "$P"
  fi
else
  ferry_touch; [ "$tch" = 0 ] || echo changed=1
  ferry_attrs "$P"
fi
"#;

const LINK: &str = r#"if [ -z "$S" ]; then
  if [ "$fst" = link ]; then S=$(readlink -- "$P"); else ferry_fail "src is required for creating new symlinks"; fi
fi
case $S in /*) abs=$S ;; *) case $P in */*) abs=${P%/*}/$S ;; *) abs=$S ;; esac ;; esac
if [ ! -e "$abs" ] && [ ! -L "$abs" ] && [ "$frc" != 1 ]; then
  ferry_fail "src file does not exist, use \"force=yes\" if you really want to create the link: $abs"
fi
case $fst in
  absent) echo changed=1; [ "$ck" = 1 ] || ln -s -- "$S" "$P" 2>/dev/null || ferry_fail "Error while linking: cannot create $PN" ;;
  link)
    if [ "$(readlink -- "$P")" != "$S" ]; then
      echo changed=1
      [ "$ck" = 1 ] || { rm -f -- "$P" && ln -s -- "$S" "$P"; } || ferry_fail "Error while replacing link $PN"
    fi ;;
  directory)
    [ "$frc" = 1 ] || ferry_fail "refusing to convert from directory to symlink for $PN"
    [ -z "$(ls -A -- "$P")" ] || ferry_fail "the directory $PN is not empty, refusing to convert it"
    echo changed=1; [ "$ck" = 1 ] || { rmdir -- "$P" && ln -s -- "$S" "$P"; } || ferry_fail "Error while linking $PN" ;;
  *)
    [ "$frc" = 1 ] || ferry_fail "refusing to convert from $fst to symlink for $PN"
    echo changed=1; [ "$ck" = 1 ] || { rm -f -- "$P" && ln -s -- "$S" "$P"; } || ferry_fail "Error while linking $PN" ;;
esac
ferry_kv src_used "$S"
"#;

const HARD: &str = r#"[ -n "$S" ] || ferry_fail "src is required for creating new hardlinks"
[ -e "$S" ] || ferry_fail "src does not exist"
case $fst in
  absent) echo changed=1; [ "$ck" = 1 ] || ln -- "$S" "$P" 2>/dev/null || ferry_fail "Error while linking: cannot create $PN" ;;
  directory) ferry_fail "refusing to convert from directory to hard link for $PN" ;;
  *)
    if ! [ "$P" -ef "$S" ] || [ "$fst" = link ]; then
      [ "$fst" = hard ] || [ "$fst" = link ] || [ "$frc" = 1 ] || ferry_fail "Cannot link, $fst exists at destination"
      echo changed=1
      [ "$ck" = 1 ] || { rm -f -- "$P" && ln -- "$S" "$P"; } || ferry_fail "Error while linking $PN"
    fi ;;
esac
[ "$ck" = 1 ] || { ferry_st "$P"; ferry_attrs "$P"; }
"#;
