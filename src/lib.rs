//! ferry: an agentless, Ansible-compatible configuration runner.
//!
//! Data flows one way: CLI → config → inventory → (playbook) → engine → modules →
//! connection → host, with results flowing back out through `output`.

pub mod adhoc;
pub mod aws;
pub mod cli;
pub mod config;
pub mod connection;
pub mod engine;
pub mod error;
pub mod inventory;
pub mod kv;
pub mod modules;
pub mod output;
pub mod playbook;
pub mod playbook_cmd;
pub mod shlex;
pub mod template;
pub mod vars;
pub mod yaml;
