//! Property tests: decoding arbitrary, truncated or corrupted bytes never
//! panics; it yields a message, "need more bytes", or a FrameError.

use bytes::BytesMut;
use igloo_protocol::component::ClimateMode;
use igloo_protocol::message::WriteComponents;
use igloo_protocol::*;
use proptest::prelude::*;

fn sample_frame() -> Vec<u8> {
    let m = Message::WriteComponents(WriteComponents {
        device: DeviceId(9),
        entity: 1,
        values: vec![
            Component::Text("héllo".into()),
            Component::Color(Color { r: 1, g: 2, b: 3 }),
            Component::ClimateMode(ClimateMode::Heat),
        ],
    });
    igloo_protocol::frame::to_frame_bytes(&m, DEFAULT_MAX_FRAME).unwrap()
}

/// Feeds `bytes` to the decoder like a stream, draining all frames.
fn drain(bytes: &[u8], max: usize) {
    let mut buf = BytesMut::from(bytes);
    while let Ok(Some(_)) = try_decode_frame(&mut buf, max) {}
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        drain(&bytes, DEFAULT_MAX_FRAME);
        let _ = decode_payload(&bytes);
    }

    #[test]
    fn random_payload_behind_a_valid_length_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut framed = (payload.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&payload);
        drain(&framed, DEFAULT_MAX_FRAME);
    }

    #[test]
    fn truncated_frames_wait_or_fail(cut in 0usize..40) {
        let f = sample_frame();
        let cut = cut.min(f.len() - 1);
        let mut buf = BytesMut::from(&f[..cut]);
        // A prefix of a valid frame is never a complete message.
        prop_assert!(matches!(try_decode_frame(&mut buf, DEFAULT_MAX_FRAME), Ok(None)));
        // A frame whose declared length is cut short is an error, not a panic.
        let mut short = ((cut.saturating_sub(4)) as u32).to_le_bytes().to_vec();
        short.extend_from_slice(&f[4..cut.max(4)]);
        drain(&short, DEFAULT_MAX_FRAME);
    }

    #[test]
    fn corrupted_frames_never_panic(pos in 4usize..40, byte in any::<u8>()) {
        let mut f = sample_frame();
        let pos = pos.min(f.len() - 1);
        f[pos] = byte;
        drain(&f, DEFAULT_MAX_FRAME);
    }

    #[test]
    fn write_components_round_trip(device in any::<u64>(), entity in any::<u32>(), on in any::<bool>(), level in -1e9f64..1e9, text in ".{0,40}") {
        let m = Message::WriteComponents(WriteComponents {
            device: DeviceId(device),
            entity,
            values: vec![Component::Switch(on), Component::Power(level), Component::Text(text)],
        });
        let f = igloo_protocol::frame::to_frame_bytes(&m, DEFAULT_MAX_FRAME).unwrap();
        let mut buf = BytesMut::from(&f[..]);
        prop_assert_eq!(try_decode_frame(&mut buf, DEFAULT_MAX_FRAME).unwrap(), Some(m));
        prop_assert!(buf.is_empty());
    }
}

#[test]
fn oversize_length_is_refused_before_buffering() {
    let mut buf = BytesMut::from(&(64u32 << 20).to_le_bytes()[..]);
    let e = try_decode_frame(&mut buf, DEFAULT_MAX_FRAME).unwrap_err();
    assert_eq!(
        e.to_string(),
        "frame of 67108864 bytes exceeds the maximum of 1048576 bytes"
    );
}

#[test]
fn hostile_vec_length_inside_a_small_frame_is_an_error() {
    // WriteComponents, device 1, entity 0, then a Vec length claiming 2^60 entries.
    let mut payload = vec![5u8, 1, 0, 0xFF];
    payload.extend_from_slice(&(1u64 << 60).to_le_bytes());
    assert!(decode_payload(&payload).is_err());
}

#[test]
fn trailing_bytes_are_an_error() {
    let f = sample_frame();
    let mut payload = f[4..].to_vec();
    payload.push(0);
    assert!(matches!(
        decode_payload(&payload),
        Err(FrameError::Trailing { extra: 1, .. })
    ));
}

#[test]
fn oversize_message_is_not_encoded() {
    let m = Message::WriteComponents(WriteComponents {
        device: DeviceId(1),
        entity: 0,
        values: vec![Component::Text("x".repeat(2000))],
    });
    let mut buf = BytesMut::new();
    assert!(matches!(
        encode_frame(&m, &mut buf, 1024),
        Err(FrameError::TooLong { .. })
    ));
    assert!(
        buf.is_empty(),
        "a refused frame leaves the buffer unchanged"
    );
}
