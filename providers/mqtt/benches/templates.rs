//! Cost of Home Assistant templates per message (figures only):
//! `cargo bench -p igloo-mqtt --bench templates`.
//!
//! The provider is a binary crate, so the template module is compiled into
//! this bench by path: what is measured is the provider's own code. Per
//! message the provider builds the context once (`payload_context`: parse the
//! payload as JSON and convert it) and renders every template reading that
//! topic; compiling happens once per config.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[allow(dead_code)]
#[path = "../src/discovery/template.rs"]
mod template;

use template::{Templates, payload_context};

/// A Zigbee2MQTT sensor's state message.
const Z2M: &str = r#"{"battery":97,"humidity":55.2,"linkquality":120,"pressure":1012.3,"temperature":21.5,"voltage":3005}"#;
/// A Tasmota energy telemetry message.
const TASMOTA: &str = r#"{"Time":"2026-12-05T23:40:00","ENERGY":{"TotalStartTime":"2026-01-01T00:00:00","Total":12.5,"Yesterday":0.5,"Today":0.2,"Power":42,"ApparentPower":50,"ReactivePower":27,"Factor":0.84,"Voltage":231,"Current":0.217}}"#;

fn benches(c: &mut Criterion) {
    let mut t = Templates::new();
    let simple = t
        .add("{{ value_json.temperature }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let nested = t
        .add("{{value_json['ENERGY']['Power']}}")
        .unwrap_or_else(|e| panic!("{e}"));
    let math = t
        .add("{{ (value_json.voltage | float / 1000) | round(2) }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let cond = t
        .add("{{ 'ON' if value_json.humidity | float > 50 else 'OFF' }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let plain = t.add("{{ value }}").unwrap_or_else(|e| panic!("{e}"));
    // A template-schema light's brightness out of `on|51|255,0,0|Fire`: a
    // regex (compiled per render) against Python's split.
    let regex = t
        .add("{{ value | regex_findall_index('^[a-z]+[|]([0-9]*)') }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let split = t
        .add("{{ value.split('|')[1] }}")
        .unwrap_or_else(|e| panic!("{e}"));

    c.bench_function("compile a value template", |b| {
        b.iter(|| {
            let mut t = Templates::new();
            black_box(t.add(black_box("{{ value_json.temperature | float | round(1) }}")))
        })
    });
    c.bench_function("context of a Zigbee2MQTT message", |b| {
        b.iter(|| black_box(payload_context(black_box(Z2M))))
    });
    c.bench_function("context of a Tasmota SENSOR message", |b| {
        b.iter(|| black_box(payload_context(black_box(TASMOTA))))
    });
    let z2m = payload_context(Z2M);
    let tasmota = payload_context(TASMOTA);
    c.bench_function("render {{ value_json.temperature }}", |b| {
        b.iter(|| black_box(t.render(&simple, &z2m)))
    });
    c.bench_function("render Tasmota ENERGY.Power", |b| {
        b.iter(|| black_box(t.render(&nested, &tasmota)))
    });
    c.bench_function("render float / round", |b| {
        b.iter(|| black_box(t.render(&math, &z2m)))
    });
    c.bench_function("render conditional", |b| {
        b.iter(|| black_box(t.render(&cond, &z2m)))
    });
    c.bench_function("render {{ value }}", |b| {
        b.iter(|| black_box(t.render(&plain, &z2m)))
    });
    let strip = payload_context("on|51|255,0,0|Fire");
    c.bench_function("render regex_findall_index", |b| {
        b.iter(|| black_box(t.render(&regex, &strip)))
    });
    c.bench_function("render value.split('|')[1]", |b| {
        b.iter(|| black_box(t.render(&split, &strip)))
    });
    c.bench_function("Zigbee2MQTT message: context + 6 renders", |b| {
        b.iter(|| {
            let ctx = payload_context(black_box(Z2M));
            for id in [&simple, &math, &cond, &simple, &math, &plain] {
                black_box(t.render(id, &ctx).ok());
            }
        })
    });
}

criterion_group!(name = templates; config = Criterion::default().sample_size(50); targets = benches);
criterion_main!(templates);
