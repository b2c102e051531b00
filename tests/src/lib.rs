//! # igloo-tests
//!
//! End-to-end tests of Igloo against real peers. The tests live in `tests/*.rs`;
//! this library is their harness (see [`harness`]): it starts a real Mosquitto
//! and the real `igloo` core on free loopback ports, talks to the core over its
//! HTTP API, its event stream and its CLI, and cleans everything up on drop —
//! also when a test fails, in which case it prints the tails of the logs.
//!
//! The binary `igloo-test-provider` (src/bin/test_provider.rs) is a provider
//! written on the raw protocol crate so that it can misbehave on purpose.
//!
//! Run with `cargo build --workspace --bins && cargo test -p igloo-tests`.

pub mod harness;
pub mod hostile;

pub use harness::*;
