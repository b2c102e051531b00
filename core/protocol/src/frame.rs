//! Framing: a 4-byte little-endian payload length, then the bincode 2.0.1
//! `standard()` (varint) serde encoding of one [`Message`] (DESIGN §5).
//!
//! Decoding never panics: a too-long length, a truncated payload, trailing
//! bytes or an undecodable payload is a [`FrameError`].

use bytes::{Buf, BufMut, BytesMut};

use crate::message::Message;

/// Default maximum payload length: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Length prefix size in bytes.
pub const HEADER_LEN: usize = 4;

/// A frame that cannot be accepted. Any of these is a protocol violation by the peer.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces more than the maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLong {
        /// Announced payload length.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// The payload is not a valid [`Message`].
    #[error("undecodable frame ({len} bytes): {reason}")]
    Decode {
        /// Payload length.
        len: usize,
        /// What bincode reported.
        reason: String,
    },
    /// The payload decoded but left bytes over.
    #[error("frame has {extra} trailing bytes after a {name} message")]
    Trailing {
        /// Undecoded byte count.
        extra: usize,
        /// The decoded message's name.
        name: &'static str,
    },
    /// Encoding failed (only for a message over the maximum size).
    #[error("cannot encode message: {0}")]
    Encode(String),
    /// The connection closed in the middle of a frame.
    #[error("connection closed inside a frame ({have} of {want} bytes)")]
    Truncated {
        /// Bytes received.
        have: usize,
        /// Bytes announced.
        want: usize,
    },
    /// Transport error (codec use only).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

fn config() -> impl bincode::config::Config {
    // The byte limit stops a hostile length inside the payload (a Vec claiming
    // 2^60 elements) from being trusted before bytes back it.
    bincode::config::standard().with_limit::<DEFAULT_MAX_FRAME>()
}

/// Appends one frame (length + payload) for `msg` to `dst`.
///
/// # Errors
/// [`FrameError::TooLong`] if the payload exceeds `max`; the buffer is left unchanged.
pub fn encode_frame(msg: &Message, dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    let start = dst.len();
    dst.put_u32_le(0);
    let mut w = dst.writer();
    let res = bincode::serde::encode_into_std_write(msg, &mut w, bincode::config::standard());
    let dst = w.into_inner();
    match res {
        Ok(len) if len <= max => {
            let len32 = len as u32; // len <= max <= u32::MAX in any sane configuration
            dst[start..start + HEADER_LEN].copy_from_slice(&len32.to_le_bytes());
            Ok(())
        }
        Ok(len) => {
            dst.truncate(start);
            Err(FrameError::TooLong { len, max })
        }
        Err(e) => {
            dst.truncate(start);
            Err(FrameError::Encode(e.to_string()))
        }
    }
}

/// Decodes one payload (without the length prefix).
///
/// # Errors
/// [`FrameError::Decode`] or [`FrameError::Trailing`].
pub fn decode_payload(payload: &[u8]) -> Result<Message, FrameError> {
    match bincode::serde::decode_from_slice::<Message, _>(payload, config()) {
        Ok((msg, used)) if used == payload.len() => Ok(msg),
        Ok((msg, used)) => Err(FrameError::Trailing {
            extra: payload.len() - used,
            name: msg.name(),
        }),
        Err(e) => Err(FrameError::Decode {
            len: payload.len(),
            reason: e.to_string(),
        }),
    }
}

/// Takes one complete frame from the front of `src` if there is one.
///
/// Returns `Ok(None)` when more bytes are needed (and reserves room for them).
///
/// # Errors
/// [`FrameError::TooLong`] as soon as the header announces more than `max`
/// (before any payload is buffered), or a payload error.
pub fn try_decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<Message>, FrameError> {
    if src.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = u32::from_le_bytes([src[0], src[1], src[2], src[3]]) as usize;
    if len > max {
        return Err(FrameError::TooLong { len, max });
    }
    if src.len() < HEADER_LEN + len {
        src.reserve(HEADER_LEN + len - src.len());
        return Ok(None);
    }
    src.advance(HEADER_LEN);
    let payload = src.split_to(len);
    decode_payload(&payload).map(Some)
}

/// Encodes a message into a fresh `Vec` (length prefix included).
///
/// # Errors
/// As [`encode_frame`].
pub fn to_frame_bytes(msg: &Message, max: usize) -> Result<Vec<u8>, FrameError> {
    let mut b = BytesMut::new();
    encode_frame(msg, &mut b, max)?;
    Ok(b.to_vec())
}
