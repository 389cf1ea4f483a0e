//! Hashing helpers for filters: hex digests, SHA-crypt (`password_hash`),
//! UUIDv5 (`to_uuid`) and OS randomness.
//!
//! SHA-256/512-crypt follow Ulrich Drepper's specification (what glibc's
//! `crypt(3)` and passlib implement), so `password_hash('sha512', 'salt')`
//! yields the same `$6$salt$…` string as Ansible (5000 implicit rounds).

use sha2::Digest;

/// Ansible's namespace for `to_uuid`.
pub const ANSIBLE_UUID_NAMESPACE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

const CRYPT_ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex digest with a Python `hashlib.new` algorithm name: Python's own
/// names as written, or OpenSSL's names (any case). `None`: unknown.
pub fn hex_digest(algo: &str, data: &[u8]) -> Option<String> {
    let openssl = algo.to_ascii_lowercase();
    let name = match algo {
        "blake2b" | "blake2s" | "sha3_224" | "sha3_256" | "sha3_384" | "sha3_512" => algo,
        _ => match openssl.as_str() {
            "sha-1" => "sha1",
            "sha-224" | "sha2-224" => "sha224",
            "sha-256" | "sha2-256" => "sha256",
            "sha-384" | "sha2-384" => "sha384",
            "sha-512" | "sha2-512" => "sha512",
            "sha512_224" | "sha512-224" | "sha2-512/224" => "sha512_224",
            "sha512_256" | "sha512-256" | "sha2-512/256" => "sha512_256",
            "sha3-224" => "sha3_224",
            "sha3-256" => "sha3_256",
            "sha3-384" => "sha3_384",
            "sha3-512" => "sha3_512",
            "blake2b512" => "blake2b",
            "blake2s256" => "blake2s",
            "ssl3-md5" => "md5",
            "ssl3-sha1" => "sha1",
            n @ ("md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512" | "md5-sha1") => n,
            // Python-only spellings (`blake2b`, `sha3_256`) are case-sensitive.
            _ => return None,
        },
    };
    Some(match name {
        "md5" => format!("{:x}", md5::compute(data)),
        "sha1" => hex(&sha1::Sha1::digest(data)),
        "md5-sha1" => format!("{:x}{}", md5::compute(data), hex(&sha1::Sha1::digest(data))),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        "sha512_224" => hex(&sha2::Sha512_224::digest(data)),
        "sha512_256" => hex(&sha2::Sha512_256::digest(data)),
        "sha3_224" => hex(&sha3::Sha3_224::digest(data)),
        "sha3_256" => hex(&sha3::Sha3_256::digest(data)),
        "sha3_384" => hex(&sha3::Sha3_384::digest(data)),
        "sha3_512" => hex(&sha3::Sha3_512::digest(data)),
        "blake2b" => hex(&blake2::Blake2b512::digest(data)),
        "blake2s" => hex(&blake2::Blake2s256::digest(data)),
        _ => return None,
    })
}

/// Whether `algo` names a SHAKE function, which `hashlib` knows but whose
/// `hexdigest()` needs a length the `hash` filter does not pass.
pub fn is_shake(algo: &str) -> bool {
    matches!(algo, "shake_128" | "shake_256")
        || matches!(algo.to_ascii_lowercase().as_str(), "shake128" | "shake256")
}

pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Random string of `len` characters drawn from `chars`.
pub fn random_string(len: usize, chars: &[char]) -> String {
    if chars.is_empty() {
        return String::new();
    }
    (0..len)
        .map(|_| chars[(random_u64() % chars.len() as u64) as usize])
        .collect()
}

/// Ansible's `password_hash` for the SHA-crypt schemes.
pub fn password_hash(
    pw: &str,
    algo: &str,
    salt: Option<&str>,
    rounds: Option<u32>,
) -> Result<String, String> {
    let alphabet: Vec<char> = CRYPT_ALPHABET.iter().map(|b| *b as char).collect();
    let salt = match salt {
        Some(s) => s.to_string(),
        None => random_string(16, &alphabet),
    };
    match algo {
        "sha512" | "sha512_crypt" => Ok(sha_crypt::<sha2::Sha512>(pw, &salt, rounds, "6")),
        "sha256" | "sha256_crypt" => Ok(sha_crypt::<sha2::Sha256>(pw, &salt, rounds, "5")),
        other => Err(format!("password_hash: unsupported hash type {other}")),
    }
}

fn sha_crypt<D: Digest + Clone>(pw: &str, salt: &str, rounds: Option<u32>, id: &str) -> String {
    let pw = pw.as_bytes();
    let salt_full = salt.as_bytes();
    let salt = &salt_full[..salt_full.len().min(16)];
    let n_rounds = rounds.unwrap_or(5000).clamp(1000, 999_999_999);
    let dsize = <D as Digest>::output_size();

    let mut b = D::new();
    b.update(pw);
    b.update(salt);
    b.update(pw);
    let b = b.finalize();

    let mut a = D::new();
    a.update(pw);
    a.update(salt);
    let mut left = pw.len();
    while left > dsize {
        a.update(&b);
        left -= dsize;
    }
    a.update(&b[..left]);
    let mut cnt = pw.len();
    while cnt > 0 {
        if cnt & 1 == 1 {
            a.update(&b);
        } else {
            a.update(pw);
        }
        cnt >>= 1;
    }
    let mut a = a.finalize().to_vec();

    let mut dp = D::new();
    for _ in 0..pw.len() {
        dp.update(pw);
    }
    let dp = dp.finalize();
    let p: Vec<u8> = dp.iter().cycle().take(pw.len()).copied().collect();

    let mut ds = D::new();
    for _ in 0..(16 + a[0] as usize) {
        ds.update(salt);
    }
    let ds = ds.finalize();
    let s: Vec<u8> = ds.iter().cycle().take(salt.len()).copied().collect();

    for i in 0..n_rounds {
        let mut c = D::new();
        if i & 1 == 1 {
            c.update(&p);
        } else {
            c.update(&a);
        }
        if i % 3 != 0 {
            c.update(&s);
        }
        if i % 7 != 0 {
            c.update(&p);
        }
        if i & 1 == 1 {
            c.update(&a);
        } else {
            c.update(&p);
        }
        a = c.finalize().to_vec();
    }

    let mut out = format!("${id}$");
    if rounds.is_some_and(|r| r != 5000) {
        out.push_str(&format!("rounds={n_rounds}$"));
    }
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    let mut enc = |b2: u8, b1: u8, b0: u8, n: usize| {
        let mut w = ((b2 as u32) << 16) | ((b1 as u32) << 8) | b0 as u32;
        for _ in 0..n {
            out.push(CRYPT_ALPHABET[(w & 0x3f) as usize] as char);
            w >>= 6;
        }
    };
    if dsize == 64 {
        let mut i = 0usize;
        let (mut x, mut y, mut z) = (0usize, 21usize, 42usize);
        while i < 21 {
            enc(a[x], a[y], a[z], 4);
            // Rotate the triple as in the reference implementation.
            let (nx, ny, nz) = (y + 1, z + 1, x + 1);
            x = nx;
            y = ny;
            z = nz;
            i += 1;
        }
        enc(0, 0, a[63], 2);
    } else {
        let (mut x, mut y, mut z) = (0usize, 10usize, 20usize);
        for _ in 0..10 {
            enc(a[x], a[y], a[z], 4);
            let (nx, ny, nz) = (z + 1, x + 1, y + 1);
            x = nx;
            y = ny;
            z = nz;
        }
        enc(0, a[31], a[30], 3);
    }
    out
}

/// UUID version 5 (SHA-1, RFC 4122) of `name` in namespace `ns`.
pub fn uuid5(ns: &str, name: &str) -> Result<String, String> {
    let hexns: String = ns.chars().filter(|c| *c != '-').collect();
    if hexns.len() != 32 {
        return Err(format!("to_uuid: invalid namespace {ns}"));
    }
    let mut nsb = [0u8; 16];
    for (i, b) in nsb.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hexns[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("to_uuid: invalid namespace {ns}"))?;
    }
    let mut h = sha1::Sha1::new();
    h.update(nsb);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let h = hex(&u);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}
