//! The engine: runs plays over hosts with Ansible's strategies.
pub mod cursor;
pub mod facts;
