//! ESPHome's native API: messages, framing and the Noise handshake.
//!
//! Sources: the message definitions published as `api.proto` in ESPHome and
//! aioesphomeapi (field numbers and message ids), and ESPHome's frame helpers
//! (`api_frame_helper_plaintext.cpp`, `api_frame_helper_noise.cpp`).

pub mod frame;
pub mod noise;
pub mod proto;
