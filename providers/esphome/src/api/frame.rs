//! Framing of the native API, both kinds, as a `tokio_util` codec.
//!
//! - **Plaintext** (ESPHome `api_frame_helper_plaintext.cpp`): byte `0x00`,
//!   varint payload length, varint message type, protobuf payload.
//! - **Noise** (ESPHome `api_frame_helper_noise.cpp`): byte `0x01`, 2-byte
//!   big-endian length, then that many bytes of ciphertext. Decrypted, a frame
//!   holds the message type (2 bytes BE), the payload length (2 bytes BE) and
//!   the protobuf payload. The handshake before it is in [`super::noise`].
//!
//! Both kinds carry at most [`MAX_FRAME`] bytes, the limit of the 2-byte Noise
//! length and of ESPHome's reference client for plaintext. Anything else a
//! device sends (a wrong indicator byte, an over-long or undecryptable frame, a
//! frame cut off by the end of the stream) is a [`FrameError`] naming what was
//! wrong; the caller drops the connection and reconnects.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::proto::Outgoing;

/// Largest frame body accepted or sent, in bytes (65 535: a Noise frame's
/// 2-byte length; aioesphomeapi's plaintext limit is the same).
pub const MAX_FRAME: usize = 65_535;

/// Bytes the ChaChaPoly tag adds to each encrypted frame.
const TAG_LEN: usize = 16;

/// Longest varint accepted in a plaintext header (3 bytes already cover
/// [`MAX_FRAME`]; one more is tolerated for non-minimal encodings).
const MAX_VARINT_BYTES: usize = 4;

/// One message received from the device: its id and protobuf payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message id (e.g. 2 = HelloResponse).
    pub msg_type: u16,
    /// The protobuf payload.
    pub payload: Bytes,
}

/// What went wrong with the bytes a device sent.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A plaintext connection got a Noise frame: the device has an API
    /// encryption key and needs one here too.
    #[error("the device requires encryption: add its API encryption key")]
    RequiresEncryption,
    /// A Noise connection got a plaintext frame: the device has no key.
    #[error(
        "the device uses the plaintext API (no encryption key): remove the key configured for it"
    )]
    DeviceIsPlaintext,
    /// The first byte of a frame is neither indicator.
    #[error("invalid frame indicator byte 0x{0:02x} (not an ESPHome native API peer?)")]
    BadIndicator(u8),
    /// A varint in a plaintext header is longer than any valid one.
    #[error("malformed frame header: varint longer than {MAX_VARINT_BYTES} bytes")]
    VarintTooLong,
    /// The header announces a frame above [`MAX_FRAME`].
    #[error("frame of {len} bytes announced; the limit is {MAX_FRAME}")]
    TooLong {
        /// Announced length in bytes.
        len: u64,
    },
    /// A message id above 65 535.
    #[error("message type {0} out of range")]
    BadType(u64),
    /// A Noise frame that does not decrypt with the session keys.
    #[error("frame failed to decrypt (corrupted, or not from this session)")]
    Decrypt,
    /// A decrypted Noise frame whose inner header is inconsistent.
    #[error("decrypted frame of {len} bytes announces {data_len} payload bytes")]
    BadInner {
        /// Decrypted length.
        len: usize,
        /// Announced payload length.
        data_len: usize,
    },
    /// A message too large to send in one frame.
    #[error("message of {0} bytes is too large to send")]
    SendTooLarge(usize),
    /// Encryption of an outgoing frame failed.
    #[error("encrypting a frame failed: {0}")]
    Encrypt(String),
    /// The stream ended in the middle of a frame.
    #[error("connection closed in the middle of a frame ({0} bytes of it received)")]
    Truncated(usize),
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How frames are wrapped on this connection.
pub enum Framing {
    /// Plaintext frames.
    Plaintext,
    /// Noise frames, with the session's transport state from the handshake.
    Noise(Box<snow::TransportState>),
}

/// Encoder/decoder of native API frames over one connection.
pub struct ApiCodec {
    framing: Framing,
    scratch: Vec<u8>,
}

impl ApiCodec {
    /// A codec for this connection's framing.
    pub fn new(framing: Framing) -> Self {
        ApiCodec {
            framing,
            scratch: Vec::new(),
        }
    }

    /// Whether frames are encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.framing, Framing::Noise(_))
    }
}

/// Reads a varint from `buf[*pos..]`: `Ok(None)` when incomplete.
fn varint(buf: &[u8], pos: &mut usize) -> Result<Option<u64>, FrameError> {
    let mut value = 0u64;
    for i in 0..MAX_VARINT_BYTES {
        let Some(&b) = buf.get(*pos + i) else {
            return Ok(None);
        };
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *pos += i + 1;
            return Ok(Some(value));
        }
    }
    Err(FrameError::VarintTooLong)
}

fn put_varint(out: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        out.put_u8((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

impl ApiCodec {
    fn decode_plain(src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let Some(&indicator) = src.first() else {
            return Ok(None);
        };
        match indicator {
            0x00 => {}
            0x01 => return Err(FrameError::RequiresEncryption),
            other => return Err(FrameError::BadIndicator(other)),
        }
        let mut pos = 1;
        let Some(len) = varint(src, &mut pos)? else {
            return Ok(None);
        };
        if len > MAX_FRAME as u64 {
            return Err(FrameError::TooLong { len });
        }
        let Some(msg_type) = varint(src, &mut pos)? else {
            return Ok(None);
        };
        let msg_type = u16::try_from(msg_type).map_err(|_| FrameError::BadType(msg_type))?;
        let len = len as usize;
        if src.len() < pos + len {
            src.reserve(pos + len - src.len());
            return Ok(None);
        }
        src.advance(pos);
        let payload = src.split_to(len).freeze();
        Ok(Some(Frame { msg_type, payload }))
    }

    fn decode_noise(
        transport: &mut snow::TransportState,
        scratch: &mut Vec<u8>,
        src: &mut BytesMut,
    ) -> Result<Option<Frame>, FrameError> {
        if src.len() < 3 {
            return Ok(None);
        }
        match src[0] {
            0x01 => {}
            0x00 => return Err(FrameError::DeviceIsPlaintext),
            other => return Err(FrameError::BadIndicator(other)),
        }
        let len = usize::from(u16::from_be_bytes([src[1], src[2]]));
        if src.len() < 3 + len {
            src.reserve(3 + len - src.len());
            return Ok(None);
        }
        src.advance(3);
        let ciphertext = src.split_to(len);
        scratch.resize(len, 0);
        let n = transport
            .read_message(&ciphertext, scratch)
            .map_err(|_| FrameError::Decrypt)?;
        let plain = &scratch[..n];
        if n < 4 {
            return Err(FrameError::BadInner {
                len: n,
                data_len: 0,
            });
        }
        let msg_type = u16::from_be_bytes([plain[0], plain[1]]);
        let data_len = usize::from(u16::from_be_bytes([plain[2], plain[3]]));
        if data_len > n - 4 {
            return Err(FrameError::BadInner { len: n, data_len });
        }
        Ok(Some(Frame {
            msg_type,
            payload: Bytes::copy_from_slice(&plain[4..4 + data_len]),
        }))
    }
}

impl Decoder for ApiCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match &mut self.framing {
            Framing::Plaintext => Self::decode_plain(src),
            Framing::Noise(t) => Self::decode_noise(t, &mut self.scratch, src),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FrameError::Truncated(src.len())),
        }
    }
}

impl Encoder<Outgoing> for ApiCodec {
    type Error = FrameError;

    fn encode(&mut self, item: Outgoing, dst: &mut BytesMut) -> Result<(), FrameError> {
        let len = item.payload.len();
        match &mut self.framing {
            Framing::Plaintext => {
                if len > MAX_FRAME {
                    return Err(FrameError::SendTooLarge(len));
                }
                dst.reserve(len + 7);
                dst.put_u8(0x00);
                put_varint(dst, len as u64);
                put_varint(dst, u64::from(item.msg_type));
                dst.extend_from_slice(&item.payload);
            }
            Framing::Noise(transport) => {
                if 4 + len + TAG_LEN > MAX_FRAME {
                    return Err(FrameError::SendTooLarge(len));
                }
                let mut plain = Vec::with_capacity(4 + len);
                plain.extend_from_slice(&item.msg_type.to_be_bytes());
                plain.extend_from_slice(&(len as u16).to_be_bytes());
                plain.extend_from_slice(&item.payload);
                self.scratch.resize(plain.len() + TAG_LEN, 0);
                let n = transport
                    .write_message(&plain, &mut self.scratch)
                    .map_err(|e| FrameError::Encrypt(e.to_string()))?;
                dst.reserve(3 + n);
                dst.put_u8(0x01);
                dst.put_u16(n as u16);
                dst.extend_from_slice(&self.scratch[..n]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> ApiCodec {
        ApiCodec::new(Framing::Plaintext)
    }

    #[test]
    fn plaintext_round_trip_and_partial_input() {
        let mut c = plain();
        let mut buf = BytesMut::new();
        let payload = vec![7u8; 300];
        c.encode(
            Outgoing {
                msg_type: 300,
                payload: payload.clone(),
            },
            &mut buf,
        )
        .expect("encode");
        // 0x00, varint 300 = ac 02, varint 300 = ac 02.
        assert_eq!(&buf[..5], &[0x00, 0xac, 0x02, 0xac, 0x02]);
        let whole = buf.clone();
        for cut in 0..whole.len() {
            let mut part = BytesMut::from(&whole[..cut]);
            assert_eq!(c.decode(&mut part).expect("partial is not an error"), None);
            assert!(
                matches!(
                    c.decode_eof(&mut part),
                    Err(FrameError::Truncated(n)) if n == cut
                ) || cut == 0
            );
        }
        let frame = c.decode(&mut buf).expect("decode").expect("complete");
        assert_eq!(frame.msg_type, 300);
        assert_eq!(&frame.payload[..], &payload[..]);
        assert!(buf.is_empty());
    }

    #[test]
    fn plaintext_errors_are_named() {
        let mut c = plain();
        let e = c.decode(&mut BytesMut::from(&[0x01u8, 0x00, 0x13][..]));
        assert!(matches!(e, Err(FrameError::RequiresEncryption)), "{e:?}");
        let e = c.decode(&mut BytesMut::from(&[0xffu8, 0xff, 0xff][..]));
        assert!(matches!(e, Err(FrameError::BadIndicator(0xff))), "{e:?}");
        // 16 MiB announced.
        let e = c.decode(&mut BytesMut::from(
            &[0x00u8, 0x80, 0x80, 0x80, 0x08, 0x01][..],
        ));
        assert!(
            matches!(e, Err(FrameError::TooLong { len: 16_777_216 })),
            "{e:?}"
        );
        let e = c.decode(&mut BytesMut::from(
            &[0x00u8, 0x80, 0x80, 0x80, 0x80, 0x01][..],
        ));
        assert!(matches!(e, Err(FrameError::VarintTooLong)), "{e:?}");
        let e = c.decode(&mut BytesMut::from(&[0x00u8, 0x00, 0x80, 0x80, 0x04][..]));
        assert!(matches!(e, Err(FrameError::BadType(65_536))), "{e:?}");
    }

    #[test]
    fn empty_payload_frames_decode() {
        let mut c = plain();
        let mut buf = BytesMut::from(&[0x00u8, 0x00, 0x07, 0x00, 0x00, 0x08][..]);
        assert_eq!(c.decode(&mut buf).expect("ok").map(|f| f.msg_type), Some(7));
        assert_eq!(c.decode(&mut buf).expect("ok").map(|f| f.msg_type), Some(8));
        assert_eq!(c.decode(&mut buf).expect("ok"), None);
    }

    #[test]
    fn garbage_never_panics() {
        // Every short byte string, as plaintext.
        let mut c = plain();
        let mut seed = 0x1234_5678u32;
        for len in 0..64 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        (seed & 0xff) as u8
                    })
                    .collect();
                let mut buf = BytesMut::from(&bytes[..]);
                while let Ok(Some(_)) = c.decode(&mut buf) {}
                let _ = c.decode_eof(&mut buf);
            }
        }
    }
}
