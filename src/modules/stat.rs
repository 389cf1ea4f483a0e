//! `stat`: a file's metadata in Ansible's `stat` dict, one exec (`stat -c`,
//! `sha1sum` or another coreutils digest, `readlink`). Never changes anything.

use serde_json::{Map, Value};

use super::fs::{self, path_expr};
use super::mode::octal4;
use super::spec::{check_args, ArgSpec, Param, Type};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

pub const SPEC: ArgSpec = ArgSpec::module(&[&[
    Param::aliased("path", &["dest", "name"], Type::Path).required(),
    Param::new("follow", Type::Bool),
    Param::new("get_checksum", Type::Bool),
    Param::aliased("get_mime", &["mime", "mime_type", "mime-type"], Type::Bool),
    Param::aliased("get_attributes", &["attr", "attributes"], Type::Bool),
    Param::aliased(
        "checksum_algorithm",
        &["checksum", "checksum_algo"],
        Type::Str,
    )
    .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
]]);

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "stat", args) {
        return Ok(r);
    }
    let get_mime = match arg_bool(args, "get_mime", true) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let get_attributes = match arg_bool(args, "get_attributes", true) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let plan = || -> Result<(String, bool, bool, &'static str), ModResult> {
        let path = arg_str(args, "path")
            .or_else(|| arg_str(args, "dest"))
            .or_else(|| arg_str(args, "name"))
            .ok_or_else(|| failed("missing required arguments: path"))?;
        let follow = arg_bool(args, "follow", false)?;
        let get_checksum = arg_bool(args, "get_checksum", true)?;
        let algo = arg_str(args, "checksum_algorithm")
            .or_else(|| arg_str(args, "checksum"))
            .or_else(|| arg_str(args, "checksum_algo"))
            .unwrap_or_else(|| "sha1".into());
        let tool = match algo.as_str() {
            "sha1" => "sha1sum",
            "md5" => "md5sum",
            "sha224" => "sha224sum",
            "sha256" => "sha256sum",
            "sha384" => "sha384sum",
            "sha512" => "sha512sum",
            other => {
                return Err(failed(format!(
                    "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {other}"
                )))
            }
        };
        Ok((path, follow, get_checksum, tool))
    };
    let (path, follow, get_checksum, tool) = match plan() {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let nonce = super::command::nonce();
    let mut s = fs::header(&nonce, true);
    s.push_str(&format!("P={}\n", path_expr(&path)));
    s.push_str(&format!(
        "ferry_st \"$P\" {}\nferry_report \"\"\n",
        if follow { "-L" } else { "" }
    ));
    s.push_str("if [ \"$fs_ex\" = 1 ]; then\n");
    s.push_str("  [ -r \"$P\" ] && echo readable=1; [ -w \"$P\" ] && echo writeable=1; [ -x \"$P\" ] && echo executable=1\n");
    s.push_str("  if [ -L \"$P\" ]; then ferry_kv lnk_target \"$(readlink -- \"$P\")\"; ferry_kv lnk_source \"$(readlink -f -- \"$P\")\"; fi\n");
    if get_checksum {
        s.push_str(&format!(
            "  if ferry_isreg && [ -r \"$P\" ]; then c=$({tool} < \"$P\" 2>/dev/null) && echo \"checksum=${{c%% *}}\"; fi\n"
        ));
    }
    // st_rdev as major/minor (hex), `file` for mime data, `lsattr` for
    // attributes: what Ansible's stat asks of the host.
    s.push_str(&format!(
        "  r=$(stat {} -c '%t %T' -- \"$P\" 2>/dev/null) && ferry_kv rdev \"$r\"\n",
        if follow { "-L" } else { "" }
    ));
    if get_mime {
        s.push_str(
            "  m=$(file --mime-type --mime-encoding \"$P\" 2>/dev/null) && ferry_kv mime \"$m\"\n",
        );
    }
    if get_attributes {
        s.push_str("  a=$(lsattr -vd \"$P\" 2>/dev/null) && ferry_kv lsattr \"$a\"\n");
    }
    s.push_str("fi\nexit 0\n");
    let rep = match fs::run_script(ctx, &nonce, s, None).await? {
        Ok(r) => r,
        Err(r) => return Ok(r),
    };
    Ok(result(&path, &rep, follow, get_mime, get_attributes))
}

/// lsattr's flag letters, as Ansible names them (`FILE_ATTRIBUTES`).
const FILE_ATTRIBUTES: &[(char, &str)] = &[
    ('A', "noatime"),
    ('a', "append"),
    ('c', "compressed"),
    ('C', "nocow"),
    ('d', "nodump"),
    ('D', "dirsync"),
    ('e', "extents"),
    ('E', "encrypted"),
    ('h', "blocksize"),
    ('i', "immutable"),
    ('I', "indexed"),
    ('j', "journalled"),
    ('N', "inline"),
    ('s', "zero"),
    ('S', "synchronous"),
    ('t', "notail"),
    ('T', "blockroot"),
    ('u', "undelete"),
    ('X', "compressedraw"),
    ('Z', "compresseddirty"),
];

/// Linux's `makedev` from `stat`'s hex major and minor.
fn rdev(s: &str) -> u64 {
    let mut it = s
        .split_whitespace()
        .map(|h| u64::from_str_radix(h, 16).unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

fn result(
    path: &str,
    rep: &fs::Report,
    follow: bool,
    get_mime: bool,
    get_attributes: bool,
) -> ModResult {
    let st = rep.stat("");
    let mut d = Map::new();
    if !st.exists {
        d.insert("exists".into(), Value::Bool(false));
    } else {
        let b = |v: bool| Value::Bool(v);
        let fmt = st.fmt();
        let m = st.perm();
        d.insert("exists".into(), b(true));
        d.insert("path".into(), Value::String(path.to_string()));
        d.insert("mode".into(), Value::String(octal4(m)));
        d.insert("isdir".into(), b(fmt == 0o040000));
        d.insert("ischr".into(), b(fmt == 0o020000));
        d.insert("isblk".into(), b(fmt == 0o060000));
        d.insert("isreg".into(), b(fmt == 0o100000));
        d.insert("isfifo".into(), b(fmt == 0o010000));
        d.insert("islnk".into(), b(fmt == 0o120000));
        d.insert("issock".into(), b(fmt == 0o140000));
        d.insert("uid".into(), Value::from(st.uid));
        d.insert("gid".into(), Value::from(st.gid));
        d.insert("size".into(), Value::from(st.size));
        d.insert("inode".into(), Value::from(st.ino));
        d.insert("dev".into(), Value::from(st.dev));
        d.insert("nlink".into(), Value::from(st.nlink));
        d.insert("atime".into(), Value::from(st.atime as f64));
        d.insert("mtime".into(), Value::from(st.mtime as f64));
        d.insert("ctime".into(), Value::from(st.ctime as f64));
        for (k, bit) in [
            ("wusr", 0o200),
            ("rusr", 0o400),
            ("xusr", 0o100),
            ("wgrp", 0o020),
            ("rgrp", 0o040),
            ("xgrp", 0o010),
            ("woth", 0o002),
            ("roth", 0o004),
            ("xoth", 0o001),
            ("isuid", 0o4000),
            ("isgid", 0o2000),
        ] {
            d.insert(k.into(), b(m & bit != 0));
        }
        d.insert("blocks".into(), Value::from(st.blocks));
        d.insert("block_size".into(), Value::from(st.bsize));
        d.insert("pw_name".into(), Value::String(st.user.clone()));
        d.insert("gr_name".into(), Value::String(st.group.clone()));
        if let Some(c) = rep.get("checksum") {
            d.insert("checksum".into(), Value::String(c.to_string()));
        }
        if !follow && st.is_link() {
            if let Some(t) = rep.get("lnk_target") {
                d.insert("lnk_target".into(), Value::String(t.to_string()));
            }
            if let Some(t) = rep.get("lnk_source") {
                d.insert("lnk_source".into(), Value::String(t.to_string()));
            }
        }
        d.insert(
            "device_type".into(),
            Value::from(rep.get("rdev").map(rdev).unwrap_or(0)),
        );
        if get_mime {
            // `PATH: text/plain; charset=us-ascii`, else 'unknown'.
            let parsed = rep.get("mime").and_then(|m| {
                let (_, tail) = m.rsplit_once(':')?;
                let (mime, cs) = tail.split_once(';')?;
                let (_, cs) = cs.split_once('=')?;
                Some((mime.trim().to_string(), cs.trim().to_string()))
            });
            let (mime, cs) = parsed.unwrap_or_else(|| ("unknown".into(), "unknown".into()));
            d.insert("mimetype".into(), Value::String(mime));
            d.insert("charset".into(), Value::String(cs));
        }
        if get_attributes {
            // `VERSION FLAGS PATH`; without lsattr: None, [], ''.
            let mut parts = rep.get("lsattr").unwrap_or_default().split_whitespace();
            let (version, flags) = match (parts.next(), parts.next()) {
                (Some(v), Some(f)) => (Value::String(v.to_string()), f.replace('-', "")),
                _ => (Value::Null, String::new()),
            };
            let names: Vec<Value> = flags
                .chars()
                .filter_map(|c| FILE_ATTRIBUTES.iter().find(|(f, _)| *f == c))
                .map(|(_, n)| Value::String((*n).to_string()))
                .collect();
            d.insert("version".into(), version);
            d.insert("attributes".into(), Value::Array(names));
            d.insert("attr_flags".into(), Value::String(flags));
        }
        d.insert("readable".into(), b(rep.flag("readable")));
        d.insert("writeable".into(), b(rep.flag("writeable")));
        d.insert("executable".into(), b(rep.flag("executable")));
    }
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("stat".into(), Value::Object(d));
    r
}
