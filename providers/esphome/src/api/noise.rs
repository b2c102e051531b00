//! The Noise handshake of the native API (ESPHome `api_frame_helper_noise.cpp`).
//!
//! Pattern `Noise_NNpsk0_25519_ChaChaPoly_SHA256`; the client is the
//! initiator, the PSK is the device's 32-byte API encryption key (base64 in
//! ESPHome configs, see [`Psk`]). On the wire, each handshake step is a frame
//! `0x01`, 2-byte big-endian length, body:
//!
//! 1. client → device: an empty frame (`01 00 00`, the "client hello"), then
//!    body `0x00` + handshake message 1;
//! 2. device → client: the server hello, body `0x01` (the chosen protocol),
//!    the device name, NUL, its MAC (hex), NUL;
//! 3. device → client: body `0x00` + handshake message 2 on success, or
//!    `0x01` + an explanation (`Handshake MAC failure` = wrong key).
//!
//! The prologue is `NoiseAPIInit` followed by the client hello's 2-byte length
//! and body, so `NoiseAPIInit\0\0`.

use std::fmt;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::frame::MAX_FRAME;

/// The Noise protocol name ESPHome uses.
pub const PATTERN: &str = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";

/// The prologue for an empty client hello.
const PROLOGUE: &[u8] = b"NoiseAPIInit\x00\x00";

/// A device's API encryption key: 32 bytes, written base64 (44 characters)
/// as in ESPHome's `api: encryption: key:`. Its `Debug` and `Display` never
/// show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk([u8; 32]);

impl Psk {
    /// Parses the base64 text of a key.
    ///
    /// # Errors
    /// A message (without the key) when the text is not base64 or does not
    /// decode to 32 bytes.
    pub fn from_base64(text: &str) -> Result<Psk, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| {
                format!(
                    "the encryption key is not valid base64 ({e}); copy it from the device's \
                     `api: encryption: key:`"
                )
            })?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "the encryption key decodes to {} bytes; ESPHome keys are 32 bytes (44 base64 \
                 characters)",
                bytes.len()
            )
        })?;
        Ok(Psk(key))
    }

    /// The key as base64 text (for storing it).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Psk(<redacted>)")
    }
}

/// What the device said about itself in its server hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The device's node name.
    pub name: String,
    /// Its MAC address as sent (12 hex digits), empty if absent.
    pub mac: String,
}

/// Why the handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The device refused our key.
    #[error("the device rejected the encryption key (Handshake MAC failure): the key is wrong")]
    WrongKey,
    /// The device answered with plaintext framing.
    #[error(
        "the device uses the plaintext API (no encryption key): remove the key configured for it"
    )]
    DeviceIsPlaintext,
    /// The connection closed right after our hello, which is what a device
    /// without encryption support does with older firmware.
    #[error(
        "the device closed the connection during the encrypted hello: it probably has no \
         encryption key (remove the key here) or is not an ESPHome device"
    )]
    ClosedDuringHello,
    /// The device refused the handshake for another reason.
    #[error("the device refused the handshake: {0}")]
    Rejected(String),
    /// A malformed handshake frame.
    #[error("malformed handshake from the device: {0}")]
    Malformed(String),
    /// Noise itself failed (e.g. a message 2 that does not verify).
    #[error("Noise handshake failed: {0}")]
    Noise(String),
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes one handshake frame (the device side, in tests).
#[cfg(test)]
async fn write_frame<S: AsyncWrite + Unpin>(s: &mut S, body: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(3 + body.len());
    out.push(0x01);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    s.write_all(&out).await
}

/// Reads one handshake frame's body.
async fn read_frame<S: AsyncRead + Unpin>(s: &mut S) -> Result<Vec<u8>, HandshakeError> {
    let mut header = [0u8; 3];
    s.read_exact(&mut header).await?;
    match header[0] {
        0x01 => {}
        0x00 => return Err(HandshakeError::DeviceIsPlaintext),
        other => {
            return Err(HandshakeError::Malformed(format!(
                "indicator byte 0x{other:02x}"
            )));
        }
    }
    let len = usize::from(u16::from_be_bytes([header[1], header[2]]));
    let mut body = vec![0u8; len.min(MAX_FRAME)];
    s.read_exact(&mut body).await?;
    Ok(body)
}

/// Splits the server hello body `0x01 name NUL mac NUL`.
fn parse_server_hello(body: &[u8]) -> Result<ServerHello, HandshakeError> {
    match body.first() {
        Some(0x01) => {}
        Some(p) => {
            return Err(HandshakeError::Malformed(format!(
                "the device chose unknown protocol {p}"
            )));
        }
        None => return Err(HandshakeError::Malformed("empty server hello".into())),
    }
    let mut parts = body[1..].split(|b| *b == 0);
    let text = |b: Option<&[u8]>| {
        b.map(|b| String::from_utf8_lossy(b).chars().take(64).collect())
            .unwrap_or_default()
    };
    let name = text(parts.next());
    let mac = text(parts.next());
    Ok(ServerHello { name, mac })
}

/// Runs the client side of the handshake on a fresh connection and returns
/// the transport state for [`super::frame::Framing::Noise`].
///
/// # Errors
/// [`HandshakeError`]: a wrong key, a plaintext device, a refusal or a
/// malformed answer; an EOF right after the hello is [`HandshakeError::ClosedDuringHello`].
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    psk: &Psk,
) -> Result<(snow::TransportState, ServerHello), HandshakeError> {
    let params: snow::params::NoiseParams = PATTERN
        .parse()
        .map_err(|e| HandshakeError::Noise(format!("{e}")))?;
    let mut hs = snow::Builder::new(params)
        .psk(0, psk.bytes())
        .and_then(|b| b.prologue(PROLOGUE))
        .and_then(|b| b.build_initiator())
        .map_err(|e| HandshakeError::Noise(format!("{e}")))?;
    let mut msg = [0u8; 128];
    let n = hs
        .write_message(&[], &mut msg[1..])
        .map_err(|e| HandshakeError::Noise(format!("{e}")))?;
    // Client hello (empty frame) and message 1 in one write.
    let mut first = vec![0x01, 0x00, 0x00];
    first.extend_from_slice(&[0x01]);
    first.extend_from_slice(&((n + 1) as u16).to_be_bytes());
    first.push(0x00);
    first.extend_from_slice(&msg[1..1 + n]);
    stream.write_all(&first).await?;

    let hello = match read_frame(stream).await {
        Ok(body) => parse_server_hello(&body)?,
        Err(HandshakeError::Io(e)) if is_closed(&e) => {
            return Err(HandshakeError::ClosedDuringHello);
        }
        Err(e) => return Err(e),
    };
    let body = read_frame(stream).await?;
    match body.first() {
        Some(0x00) => {}
        Some(0x01) => {
            let why = String::from_utf8_lossy(&body[1..])
                .chars()
                .take(120)
                .collect::<String>();
            return Err(if why == "Handshake MAC failure" {
                HandshakeError::WrongKey
            } else {
                HandshakeError::Rejected(why)
            });
        }
        Some(b) => {
            return Err(HandshakeError::Malformed(format!(
                "handshake status byte 0x{b:02x}"
            )));
        }
        None => return Err(HandshakeError::Malformed("empty handshake frame".into())),
    }
    let mut payload = [0u8; 128];
    hs.read_message(&body[1..], &mut payload)
        .map_err(|e| match e {
            snow::Error::Decrypt => HandshakeError::WrongKey,
            other => HandshakeError::Noise(format!("{other}")),
        })?;
    let transport = hs
        .into_transport_mode()
        .map_err(|e| HandshakeError::Noise(format!("{e}")))?;
    Ok((transport, hello))
}

/// An EOF or reset: what a device does when it drops an unexpected hello.
fn is_closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "px7tsbK3C7bpXHr2OevEV2ZMg/FojJ0+SmcIgLKY1Bk=";

    #[test]
    fn psk_parsing_and_redaction() {
        let k = Psk::from_base64(KEY).expect("valid");
        assert_eq!(k.to_base64(), KEY);
        assert_eq!(format!("{k:?}"), "Psk(<redacted>)");
        let e = Psk::from_base64("not base64!").expect_err("invalid");
        assert!(e.contains("not valid base64"), "{e}");
        let e = Psk::from_base64("AAAA").expect_err("short");
        assert!(e.contains("3 bytes"), "{e}");
    }

    #[test]
    fn server_hello_is_parsed_and_bounded() {
        let h = parse_server_hello(b"\x01kitchen\x00AABBCCDDEEFF\x00").expect("ok");
        assert_eq!(h.name, "kitchen");
        assert_eq!(h.mac, "AABBCCDDEEFF");
        assert!(parse_server_hello(b"").is_err());
        assert!(parse_server_hello(b"\x02x").is_err());
        let long = [&[1u8][..], &[b'a'; 1000][..]].concat();
        assert_eq!(parse_server_hello(&long).expect("ok").name.len(), 64);
    }

    /// A responder written with snow plays the device, to check the wire
    /// layout end to end (the real peer is tested in tests/tests/esphome.rs).
    #[tokio::test]
    async fn handshake_with_a_snow_responder_then_frames() {
        use crate::api::frame::{ApiCodec, Framing};
        use crate::api::proto::Outgoing;
        use futures::{SinkExt, StreamExt};
        use tokio_util::codec::Framed;

        let psk = Psk::from_base64(KEY).expect("valid");
        let (mut client, mut device) = tokio::io::duplex(4096);
        let dev_psk = psk.clone();
        let device_task = tokio::spawn(async move {
            let mut hello = [0u8; 3];
            device.read_exact(&mut hello).await.expect("client hello");
            assert_eq!(hello, [1, 0, 0]);
            let body = read_frame(&mut device).await.expect("msg 1");
            assert_eq!(body[0], 0);
            let mut hs = snow::Builder::new(PATTERN.parse().expect("pattern"))
                .psk(0, dev_psk.bytes())
                .and_then(|b| b.prologue(PROLOGUE))
                .and_then(|b| b.build_responder())
                .expect("responder");
            let mut buf = [0u8; 128];
            hs.read_message(&body[1..], &mut buf).expect("read msg 1");
            write_frame(&mut device, b"\x01dev\x00112233445566\x00")
                .await
                .expect("server hello");
            let n = hs.write_message(&[], &mut buf[1..]).expect("msg 2");
            buf[0] = 0;
            write_frame(&mut device, &buf[..n + 1])
                .await
                .expect("send msg 2");
            let t = hs.into_transport_mode().expect("transport");
            let mut framed = Framed::new(device, ApiCodec::new(Framing::Noise(Box::new(t))));
            let f = framed.next().await.expect("frame").expect("decrypts");
            assert_eq!((f.msg_type, &f.payload[..]), (1, &b"hi"[..]));
            framed
                .send(Outgoing {
                    msg_type: 2,
                    payload: b"there".to_vec(),
                })
                .await
                .expect("send");
        });
        let (t, hello) = handshake(&mut client, &psk).await.expect("handshake");
        assert_eq!(hello.name, "dev");
        assert_eq!(hello.mac, "112233445566");
        let mut framed = Framed::new(client, ApiCodec::new(Framing::Noise(Box::new(t))));
        framed
            .send(Outgoing {
                msg_type: 1,
                payload: b"hi".to_vec(),
            })
            .await
            .expect("send");
        let f = framed.next().await.expect("frame").expect("decrypts");
        assert_eq!((f.msg_type, &f.payload[..]), (2, &b"there"[..]));
        device_task.await.expect("device side");
    }

    #[tokio::test]
    async fn a_wrong_key_is_reported_as_such() {
        let (mut client, mut device) = tokio::io::duplex(4096);
        let device_task = tokio::spawn(async move {
            let mut hello = [0u8; 3];
            device.read_exact(&mut hello).await.expect("client hello");
            let _ = read_frame(&mut device).await.expect("msg 1");
            write_frame(&mut device, b"\x01dev\x00112233445566\x00")
                .await
                .expect("server hello");
            write_frame(&mut device, b"\x01Handshake MAC failure")
                .await
                .expect("reject");
        });
        let psk = Psk::from_base64(KEY).expect("valid");
        let e = handshake(&mut client, &psk).await.expect_err("refused");
        assert!(matches!(e, HandshakeError::WrongKey), "{e:?}");
        device_task.await.expect("device side");
    }
}
