//! Shared test helpers: a real OpenSSH server per test (see `sshd.rs`).
//!
//! Each integration test binary includes this with `mod common;` and uses
//! only part of it, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod sshd;

pub use sshd::{ClientKey, Sshd, SshdOptions};
