//! Encode+decode of a typical `WriteComponents` (DESIGN §11 target ≤ 300 ns),
//! against serde_json of the same value in the same run.
//!
//! Run: `cargo bench -p igloo-protocol --bench codec`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use igloo_protocol::message::WriteComponents;
use igloo_protocol::{
    Color, Component, DEFAULT_MAX_FRAME, DeviceId, Message, encode_frame, try_decode_frame,
};

fn typical() -> Message {
    Message::WriteComponents(WriteComponents {
        device: DeviceId(42),
        entity: 3,
        values: vec![
            Component::Switch(true),
            Component::Brightness(75.0),
            Component::Color(Color {
                r: 255,
                g: 128,
                b: 0,
            }),
        ],
    })
}

fn bench(c: &mut Criterion) {
    let msg = typical();
    let mut g = c.benchmark_group("write_components_roundtrip");
    let mut buf = BytesMut::with_capacity(256);
    g.bench_function("bincode_frame", |b| {
        b.iter(|| {
            encode_frame(black_box(&msg), &mut buf, DEFAULT_MAX_FRAME).unwrap();
            let m = try_decode_frame(&mut buf, DEFAULT_MAX_FRAME)
                .unwrap()
                .unwrap();
            black_box(m)
        })
    });
    g.bench_function("serde_json", |b| {
        b.iter(|| {
            let v = serde_json::to_vec(black_box(&msg)).unwrap();
            let m: Message = serde_json::from_slice(&v).unwrap();
            black_box(m)
        })
    });
    g.finish();
    let mut b = BytesMut::new();
    encode_frame(&msg, &mut b, DEFAULT_MAX_FRAME).unwrap();
    eprintln!(
        "frame size: bincode {} bytes (incl. 4-byte header), serde_json {} bytes",
        b.len(),
        serde_json::to_vec(&msg).unwrap().len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
