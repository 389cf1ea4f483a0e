//! Unit tests for the templating layer.
