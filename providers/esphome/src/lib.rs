//! # igloo-esphome
//!
//! The Igloo provider for ESPHome devices (DESIGN §8): a client of ESPHome's
//! native API over TCP, plaintext or Noise-encrypted, with mDNS discovery.
//!
//! Code map:
//! - [`api`]: the native API itself: [`api::proto`] (the messages, written
//!   from the published field numbers), [`api::frame`] (plaintext and Noise
//!   framing) and [`api::noise`] (the `Noise_NNpsk0_25519_ChaChaPoly_SHA256`
//!   handshake).
//! - [`entities`]: ESPHome entities ↔ Igloo entities and components, and
//!   change requests → command messages.
//! - [`session`]: one device: connect, log in, mirror, keep alive, reconnect.
//! - [`manager`]: the main loop: sessions, change routing, discovery, custom
//!   commands (`esphome.add`, `esphome.remove`, `esphome.status`).
//! - [`discovery`]: mDNS browsing (`_esphomelib._tcp`).
//! - [`config`]: the `[provider.config]` section; [`store`]: devices and keys
//!   added at run time, kept owner-only in the data dir; [`mac`]: MAC
//!   normalisation (the device key).
#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod discovery;
pub mod entities;
pub mod mac;
pub mod manager;
pub mod session;
pub mod store;
