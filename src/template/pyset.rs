//! Python equality, hashing and `set` iteration order for plain values.
//!
//! Ansible's `union`, `intersect`, `difference` and `symmetric_difference`
//! filters return `list(set(a) OP set(b))`, so their output is in CPython's
//! set-table order. For numbers (and bools) that order depends only on the
//! values, so ferry replays CPython's set table (Objects/setobject.c, 3.11+:
//! linear probes of 9, perturbation, resize at 3/5 fill, dummies on delete) to
//! print the same list. String and None hashes are randomised per Python
//! process, so for those any order is as right as Ansible's; callers keep
//! first-seen order then.

use serde_json::Value as Json;

const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
const HASH_BITS: u32 = 61;
const HASH_MODULUS: u64 = (1 << HASH_BITS) - 1;
const HASH_INF: i64 = 314159;

enum Num {
    Int(i128),
    Float(f64),
}

fn num(j: &Json) -> Option<Num> {
    match j {
        Json::Bool(b) => Some(Num::Int(*b as i128)),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Num::Int(i as i128))
            } else if let Some(u) = n.as_u64() {
                Some(Num::Int(u as i128))
            } else {
                n.as_f64().map(Num::Float)
            }
        }
        _ => None,
    }
}

/// Python `a == b` (1 == 1.0 == True; dicts ignore key order).
pub fn py_eq(a: &Json, b: &Json) -> bool {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => x == y,
            (Num::Float(x), Num::Float(y)) => x == y,
            (Num::Int(i), Num::Float(f)) | (Num::Float(f), Num::Int(i)) => {
                f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i
            }
        };
    }
    match (a, b) {
        (Json::Null, Json::Null) => true,
        (Json::String(x), Json::String(y)) => x == y,
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => false,
    }
}

/// Python `x in list`.
pub fn py_contains(list: &[Json], x: &Json) -> bool {
    list.iter().any(|i| py_eq(i, x))
}

/// Whether Python can hash the value (lists and dicts cannot).
pub fn hashable(j: &Json) -> bool {
    !matches!(j, Json::Array(_) | Json::Object(_))
}

fn int_hash(i: i128) -> i64 {
    let m = (i.unsigned_abs() % HASH_MODULUS as u128) as i64;
    let h = if i < 0 { -m } else { m };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// CPython's `_Py_HashDouble` for finite values.
fn float_hash(v: f64) -> Option<i64> {
    if v.is_nan() {
        return None; // hashed by identity: not reproducible
    }
    if v.is_infinite() {
        return Some(if v > 0.0 { HASH_INF } else { -HASH_INF });
    }
    if v.fract() == 0.0 && v.abs() < 1.7e38 {
        return Some(int_hash(v as i128));
    }
    let (mut m, mut e) = frexp(v);
    let sign: i64 = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & HASH_MODULUS) | (x >> (HASH_BITS - 28));
        m *= 268435456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= HASH_MODULUS {
            x -= HASH_MODULUS;
        }
    }
    let bits = HASH_BITS as i32;
    let e = if e >= 0 {
        e % bits
    } else {
        bits - 1 - ((-1 - e) % bits)
    } as u32;
    x = ((x << e) & HASH_MODULUS) | (x >> (HASH_BITS - e));
    let h = (x as i64).wrapping_mul(sign);
    Some(if h == -1 { -2 } else { h })
}

/// `frexp`: v = m * 2**e with 0.5 <= |m| < 1.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 {
        return (v, 0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(v * f64::from_bits(0x4350_0000_0000_0000)); // 2**54
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// Python `hash()` of a value when it is the same in every process
/// (numbers and bools); `None` for strings, None and unhashables.
pub fn stable_hash(j: &Json) -> Option<i64> {
    match num(j)? {
        Num::Int(i) => Some(int_hash(i)),
        Num::Float(f) => float_hash(f),
    }
}

#[derive(Clone)]
enum Slot {
    Empty,
    Dummy,
    Active(i64, Json),
}

/// A CPython set table holding numbers.
#[derive(Clone)]
struct PySet {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
}

impl PySet {
    fn new() -> PySet {
        PySet {
            table: vec![Slot::Empty; 8],
            fill: 0,
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    fn from_list(items: &[(i64, Json)]) -> PySet {
        let mut s = PySet::new();
        for (h, k) in items {
            s.add(k.clone(), *h);
        }
        s
    }

    fn entries(&self) -> impl Iterator<Item = (i64, &Json)> {
        self.table.iter().filter_map(|s| match s {
            Slot::Active(h, k) => Some((*h, k)),
            _ => None,
        })
    }

    fn keys(&self) -> Vec<Json> {
        self.entries().map(|(_, k)| k.clone()).collect()
    }

    /// Index of the slot holding `key`, or of the empty slot ending the probe.
    fn lookkey(&self, key: &Json, hash: i64) -> usize {
        // The sequence never ends and the table always has an empty slot.
        probe_seq(hash, self.mask())
            .find(|&j| match &self.table[j] {
                Slot::Empty => true,
                Slot::Active(h, k) => *h == hash && py_eq(k, key),
                Slot::Dummy => false,
            })
            .unwrap_or(0)
    }

    /// `set_add_entry`: reuses the last dummy seen on the probe path.
    fn add(&mut self, key: Json, hash: i64) {
        let mask = self.mask();
        let mut freeslot = None;
        for j in probe_seq(hash, mask) {
            match &self.table[j] {
                Slot::Empty => {
                    if let Some(f) = freeslot {
                        self.used += 1;
                        self.table[f] = Slot::Active(hash, key);
                        return;
                    }
                    self.fill += 1;
                    self.used += 1;
                    self.table[j] = Slot::Active(hash, key);
                    if self.fill * 5 >= mask * 3 {
                        self.resize(self.grow_target());
                    }
                    return;
                }
                Slot::Dummy => freeslot = Some(j),
                Slot::Active(h, k) if *h == hash && py_eq(k, &key) => return,
                Slot::Active(..) => {}
            }
        }
    }

    fn grow_target(&self) -> usize {
        if self.used > 50000 {
            self.used * 2
        } else {
            self.used * 4
        }
    }

    fn insert_clean(&mut self, key: Json, hash: i64) {
        for j in probe_seq(hash, self.mask()) {
            if matches!(self.table[j], Slot::Empty) {
                self.table[j] = Slot::Active(hash, key);
                return;
            }
        }
    }

    fn resize(&mut self, minused: usize) {
        let mut size = 8;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Empty; size]);
        for slot in old {
            if let Slot::Active(h, k) = slot {
                self.insert_clean(k, h);
            }
        }
        self.fill = self.used;
    }

    fn contains(&self, key: &Json, hash: i64) -> bool {
        matches!(self.table[self.lookkey(key, hash)], Slot::Active(..))
    }

    fn discard(&mut self, key: &Json, hash: i64) -> bool {
        let j = self.lookkey(key, hash);
        if matches!(self.table[j], Slot::Active(..)) {
            self.table[j] = Slot::Dummy;
            self.used -= 1;
            true
        } else {
            false
        }
    }

    /// `set_merge` (the `|=` / copy path), with its two fast paths.
    fn merge(&mut self, other: &PySet) {
        if other.used == 0 {
            return;
        }
        if (self.fill + other.used) * 5 >= self.mask() * 3 {
            self.resize((self.used + other.used) * 2);
        }
        if self.fill == 0 && self.mask() == other.mask() && other.fill == other.used {
            self.table = other.table.clone();
            self.fill = other.fill;
            self.used = other.used;
            return;
        }
        if self.fill == 0 {
            self.fill = other.used;
            self.used = other.used;
            for (h, k) in other.entries() {
                self.insert_clean(k.clone(), h);
            }
            return;
        }
        for (h, k) in other.entries() {
            self.add(k.clone(), h);
        }
    }

    fn copy(&self) -> PySet {
        let mut s = PySet::new();
        s.merge(self);
        s
    }
}

/// `set_intersection`: iterate the smaller set, probe the larger.
fn intersection(so: &PySet, other: &PySet) -> PySet {
    let (so, other) = if other.used > so.used {
        (other, so)
    } else {
        (so, other)
    };
    let mut r = PySet::new();
    for (h, k) in other.entries() {
        if so.contains(k, h) {
            r.add(k.clone(), h);
        }
    }
    r
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SetOp {
    Union,
    Intersect,
    Difference,
    SymmetricDifference,
}

/// `list(set(a) OP set(b))` in CPython's order, when every item has a
/// process-independent hash; `None` otherwise.
pub fn set_op(op: SetOp, a: &[Json], b: &[Json]) -> Option<Vec<Json>> {
    let hashed = |l: &[Json]| -> Option<Vec<(i64, Json)>> {
        l.iter()
            .map(|j| Some((stable_hash(j)?, j.clone())))
            .collect()
    };
    let sa = PySet::from_list(&hashed(a)?);
    let sb = PySet::from_list(&hashed(b)?);
    let r = match op {
        SetOp::Union => {
            let mut r = sa.copy();
            r.merge(&sb);
            r
        }
        SetOp::Intersect => intersection(&sa, &sb),
        SetOp::Difference => {
            if (sa.used >> 2) > sb.used {
                // set_copy_and_difference
                let mut r = sa.copy();
                let other = if (sb.used >> 3) > r.used {
                    intersection(&r, &sb)
                } else {
                    sb.clone()
                };
                for (h, k) in other.entries() {
                    r.discard(k, h);
                }
                if r.fill - r.used > r.mask() / 4 {
                    r.resize(r.grow_target());
                }
                r
            } else {
                let mut r = PySet::new();
                for (h, k) in sa.entries() {
                    if !sb.contains(k, h) {
                        r.add(k.clone(), h);
                    }
                }
                r
            }
        }
        SetOp::SymmetricDifference => {
            // set_symmetric_difference: copy of b, then ^= a.
            let mut r = PySet::new();
            r.merge(&sb);
            for (h, k) in sa.entries() {
                if !r.discard(k, h) {
                    r.add(k.clone(), h);
                }
            }
            r
        }
    };
    Some(r.keys())
}

/// CPython's probe order (`setobject.c`): from `hash & mask`, a run of
/// LINEAR_PROBES more slots when they fit before the end, then a jump
/// driven by the shifted-in high bits (`perturb`). Never ends.
fn probe_seq(hash: i64, mask: usize) -> impl Iterator<Item = usize> {
    let mut perturb = hash as u64;
    let mut i = (hash as u64 as usize) & mask;
    let mut k = 0;
    std::iter::from_fn(move || {
        let run = if i + LINEAR_PROBES <= mask {
            LINEAR_PROBES
        } else {
            0
        };
        if k > run {
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
            k = 0;
        }
        let j = i + k;
        k += 1;
        Some(j)
    })
}
