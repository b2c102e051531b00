//! tokio-util [`Encoder`]/[`Decoder`] for the [`crate::frame`] format.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::frame::{DEFAULT_MAX_FRAME, FrameError, encode_frame, try_decode_frame};
use crate::message::Message;

/// Frames [`Message`]s with a maximum payload size (default [`DEFAULT_MAX_FRAME`]).
#[derive(Debug, Clone, Copy)]
pub struct MessageCodec {
    max: usize,
}

impl MessageCodec {
    /// A codec refusing payloads over `max` bytes in either direction.
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl Default for MessageCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl Decoder for MessageCodec {
    type Item = Message;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, FrameError> {
        try_decode_frame(src, self.max)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Message>, FrameError> {
        match self.decode(src)? {
            Some(m) => Ok(Some(m)),
            None if src.is_empty() => Ok(None),
            None => {
                let want = if src.len() >= 4 {
                    u32::from_le_bytes([src[0], src[1], src[2], src[3]]) as usize + 4
                } else {
                    4
                };
                Err(FrameError::Truncated {
                    have: src.len(),
                    want,
                })
            }
        }
    }
}

impl Encoder<&Message> for MessageCodec {
    type Error = FrameError;

    fn encode(&mut self, item: &Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_frame(item, dst, self.max)
    }
}

impl Encoder<Message> for MessageCodec {
    type Error = FrameError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_frame(&item, dst, self.max)
    }
}
