//! Tests for the DSMR reader and parser, on the fixtures in
//! `tests/dsmr_telegrams/` and on synthetic telegrams.

use super::obis::{self, MAP, Obis};
use super::*;
use igloo_provider::protocol::Component::{self, Current, Energy, Gas, Number, Power, Voltage};

const V5: &[u8] = include_bytes!("../../tests/dsmr_telegrams/v5.txt");
const V4: &[u8] = include_bytes!("../../tests/dsmr_telegrams/v4.txt");
const V22: &[u8] = include_bytes!("../../tests/dsmr_telegrams/v22.txt");

type Results = Vec<Result<Telegram, TelegramError>>;

fn r(entity: &'static str, obis: &'static str, value: Component) -> Reading {
    Reading {
        entity,
        obis,
        value,
    }
}

/// A framed v4/v5 telegram: `/` + `lines` joined by CRLF + CRLF `!` + CRC + CRLF.
fn frame(lines: &[&str]) -> Vec<u8> {
    let mut t = format!("/{}\r\n!", lines.join("\r\n")).into_bytes();
    let crc = checksum(&t);
    t.extend_from_slice(format!("{crc:04X}\r\n").as_bytes());
    t
}

/// A DSMR 2.2 telegram (no CRC).
fn frame_v22(lines: &[&str]) -> Vec<u8> {
    format!("/{}\r\n!\r\n", lines.join("\r\n")).into_bytes()
}

fn one(bytes: &[u8]) -> (Result<Telegram, TelegramError>, Stats) {
    let mut reader = Reader::new(MAX_TELEGRAM);
    let mut results = reader.push(bytes);
    assert_eq!(results.len(), 1, "{results:?}");
    (results.remove(0), reader.stats().clone())
}

fn ok(bytes: &[u8]) -> Telegram {
    match one(bytes).0 {
        Ok(t) => t,
        Err(e) => panic!("rejected: {e}"),
    }
}

fn err(bytes: &[u8]) -> TelegramError {
    match one(bytes).0 {
        Ok(t) => panic!("accepted: {t:?}"),
        Err(e) => e,
    }
}

/// Deterministic xorshift64* generator for the noise tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bit-by-bit CRC-16/ARC, independent of the `crc` crate.
fn reference_crc(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[test]
fn crc_is_crc16_arc() {
    assert_eq!(checksum(b"123456789"), 0xBB3D);
    for fixture in [V5, V4] {
        let bang = fixture.iter().position(|&b| b == b'!').unwrap();
        assert_eq!(
            checksum(&fixture[..=bang]),
            reference_crc(&fixture[..=bang])
        );
        let sent = std::str::from_utf8(&fixture[bang + 1..bang + 5]).unwrap();
        assert_eq!(
            u16::from_str_radix(sent, 16).unwrap(),
            checksum(&fixture[..=bang])
        );
    }
}

#[test]
fn fixtures_use_crlf() {
    for fixture in [V5, V4, V22] {
        assert!(fixture.starts_with(b"/"));
        assert!(fixture.ends_with(b"\r\n"));
        for (i, &b) in fixture.iter().enumerate() {
            if b == b'\n' {
                assert_eq!(fixture[i - 1], b'\r', "bare LF at {i}");
            }
        }
    }
}

#[test]
fn v5_three_phase_with_gas() {
    let (result, stats) = one(V5);
    let t = result.unwrap();
    assert_eq!(t.header, "XMX5LGF0010444123456");
    assert_eq!(t.version.as_deref(), Some("5.0"));
    assert_eq!(t.timestamp.as_deref(), Some("240117153012W"));
    assert_eq!(t.equipment_id.as_deref(), Some("E0062000074870524"));
    assert_eq!(t.gas_equipment_id.as_deref(), Some("G0039001912345678"));
    assert!(t.crc_checked);
    assert_eq!(
        t.readings,
        vec![
            r("Energy import tariff 1", "1-0:1.8.1", Energy(4527.112)),
            r("Energy import tariff 2", "1-0:1.8.2", Energy(3981.54)),
            r("Energy export tariff 1", "1-0:2.8.1", Energy(1204.303)),
            r("Energy export tariff 2", "1-0:2.8.2", Energy(2871.009)),
            r("Tariff", "0-0:96.14.0", Number(1.0)),
            r("Power import", "1-0:1.7.0", Power(1193.0)),
            r("Power export", "1-0:2.7.0", Power(0.0)),
            r("Voltage L1", "1-0:32.7.0", Voltage(229.8)),
            r("Voltage L2", "1-0:52.7.0", Voltage(231.4)),
            r("Voltage L3", "1-0:72.7.0", Voltage(230.6)),
            r("Current L1", "1-0:31.7.0", Current(3.0)),
            r("Current L2", "1-0:51.7.0", Current(1.0)),
            r("Current L3", "1-0:71.7.0", Current(2.0)),
            r("Power import L1", "1-0:21.7.0", Power(612.0)),
            r("Power import L2", "1-0:41.7.0", Power(184.0)),
            r("Power import L3", "1-0:61.7.0", Power(397.0)),
            r("Power export L1", "1-0:22.7.0", Power(0.0)),
            r("Power export L2", "1-0:42.7.0", Power(0.0)),
            r("Power export L3", "1-0:62.7.0", Power(0.0)),
            r("Gas", "0-1:24.2.1", Gas(3517.284)),
        ]
    );
    assert_eq!(
        stats,
        Stats {
            telegrams: 1,
            // 96.7.21, 96.7.9, 99.97.0, 6 × sag/swell counters, 96.13.0.
            unknown_obis: 10,
            ..Stats::default()
        }
    );
}

#[test]
fn v4_single_phase_with_gas() {
    let (result, stats) = one(V4);
    let t = result.unwrap();
    assert_eq!(t.header, "KFM5KAIFA-METER");
    assert_eq!(t.version.as_deref(), Some("4.2"));
    assert_eq!(t.timestamp.as_deref(), Some("180823211504S"));
    assert_eq!(t.equipment_id.as_deref(), Some("E0026001557318216"));
    assert_eq!(t.gas_equipment_id.as_deref(), Some("G0028001298765432"));
    assert!(t.crc_checked);
    assert_eq!(
        t.readings,
        vec![
            r("Energy import tariff 1", "1-0:1.8.1", Energy(2317.805)),
            r("Energy import tariff 2", "1-0:1.8.2", Energy(2088.431)),
            r("Energy export tariff 1", "1-0:2.8.1", Energy(0.0)),
            r("Energy export tariff 2", "1-0:2.8.2", Energy(0.0)),
            r("Tariff", "0-0:96.14.0", Number(2.0)),
            r("Power import", "1-0:1.7.0", Power(438.0)),
            r("Power export", "1-0:2.7.0", Power(0.0)),
            r("Current L1", "1-0:31.7.0", Current(2.0)),
            r("Power import L1", "1-0:21.7.0", Power(438.0)),
            r("Power export L1", "1-0:22.7.0", Power(0.0)),
            r("Gas", "0-1:24.2.1", Gas(1642.075)),
        ]
    );
    assert_eq!(stats.telegrams, 1);
    // 96.7.21, 96.7.9, 99.97.0, 32.32.0, 32.36.0, 96.13.1, 96.13.0.
    assert_eq!(stats.unknown_obis, 7);
    assert_eq!(stats.skipped_bytes, 0);
}

#[test]
fn v22_without_crc_and_two_line_gas() {
    let (result, stats) = one(V22);
    let t = result.unwrap();
    assert_eq!(t.header, "ISk5\\2MT382-1000");
    assert_eq!(t.version, None);
    assert_eq!(t.timestamp, None);
    assert_eq!(t.equipment_id.as_deref(), Some("ISK0012345678901"));
    assert_eq!(t.gas_equipment_id.as_deref(), Some("2801234567890"));
    assert!(!t.crc_checked);
    assert_eq!(
        t.readings,
        vec![
            r("Energy import tariff 1", "1-0:1.8.1", Energy(3268.47)),
            r("Energy import tariff 2", "1-0:1.8.2", Energy(2791.062)),
            r("Energy export tariff 1", "1-0:2.8.1", Energy(0.0)),
            r("Energy export tariff 2", "1-0:2.8.2", Energy(0.0)),
            r("Tariff", "0-0:96.14.0", Number(1.0)),
            r("Power import", "1-0:1.7.0", Power(360.0)),
            r("Power export", "1-0:2.7.0", Power(0.0)),
            r("Gas", "0-1:24.3.0", Gas(1374.152)),
        ]
    );
    // 17.0.0, 96.3.10, 96.13.1, 96.13.0, 24.4.0.
    assert_eq!(stats.unknown_obis, 5);
    assert_eq!(stats.telegrams, 1);
}

#[test]
fn flipped_byte_is_crc_error_then_next_parses() {
    let mut bad = V5.to_vec();
    let at = bad.windows(8).position(|w| w == b"004527.1").unwrap() + 3;
    bad[at] = b'6'; // 004527 → 004627
    let mut stream = bad.clone();
    stream.extend_from_slice(V4);
    let mut reader = Reader::new(MAX_TELEGRAM);
    let results = reader.push(&stream);
    assert_eq!(results.len(), 2);
    let bang = bad.iter().position(|&b| b == b'!').unwrap();
    assert_eq!(
        results[0],
        Err(TelegramError::Crc {
            expected: 0x9CBA,
            computed: checksum(&bad[..=bang]),
        })
    );
    assert_eq!(results[1].as_ref().unwrap().header, "KFM5KAIFA-METER");
    assert_eq!(reader.stats().crc_errors, 1);
    assert_eq!(reader.stats().telegrams, 1);
    assert_eq!(reader.stats().skipped_bytes, 0);
    // Unknown codes are only counted for valid telegrams.
    assert_eq!(reader.stats().unknown_obis, 7);
}

#[test]
fn flipped_crc_digit_is_crc_error() {
    let mut bad = V4.to_vec();
    let at = bad.iter().position(|&b| b == b'!').unwrap() + 1;
    bad[at] = b'2'; // 1D9D → 2D9D
    assert_eq!(
        err(&bad),
        TelegramError::Crc {
            expected: 0x2D9D,
            computed: 0x1D9D
        }
    );
}

#[test]
fn cut_off_telegram_is_truncated_then_next_parses() {
    let half = V5.len() / 2;
    let mut stream = V5[..half].to_vec();
    stream.extend_from_slice(V4);
    let mut reader = Reader::new(MAX_TELEGRAM);
    let results = reader.push(&stream);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], Err(TelegramError::Truncated { bytes: half }));
    assert_eq!(results[1].as_ref().unwrap().version.as_deref(), Some("4.2"));
    assert_eq!(
        *reader.stats(),
        Stats {
            telegrams: 1,
            truncated: 1,
            unknown_obis: 7,
            ..Stats::default()
        }
    );
}

#[test]
fn cut_off_in_crc_field_is_truncated() {
    let bang = V5.iter().position(|&b| b == b'!').unwrap();
    let mut stream = V5[..bang + 3].to_vec(); // "!9C"
    stream.extend_from_slice(V22);
    let mut reader = Reader::new(MAX_TELEGRAM);
    let results = reader.push(&stream);
    assert_eq!(
        results[0],
        Err(TelegramError::Truncated { bytes: bang + 3 })
    );
    assert!(results[1].is_ok());
    assert_eq!(results.len(), 2);
}

#[test]
fn bad_crc_field_is_malformed() {
    let bang = V4.iter().position(|&b| b == b'!').unwrap();
    let mut bad = V4[..bang + 3].to_vec();
    bad.extend_from_slice(b"XZ\r\n");
    assert!(matches!(err(&bad), TelegramError::Malformed(_)));
    let (_, stats) = one(&bad);
    // "XZ\r\n" is outside any telegram.
    assert_eq!(stats.skipped_bytes, 4);
    assert_eq!(stats.malformed, 1);
}

#[test]
fn lowercase_crc_is_accepted() {
    let lower = String::from_utf8(V5.to_vec())
        .unwrap()
        .replace("!9CBA", "!9cba");
    assert!(ok(lower.as_bytes()).crc_checked);
}

#[test]
fn any_split_gives_the_same_results() {
    let mut bad = V5.to_vec();
    bad[100] ^= 0x01;
    let mut stream = b"\x00\xffnoise\r\n".to_vec();
    for part in [V5, V4, &V5[..300], V22, &bad, b"garbage!\r\n", V4, V22] {
        stream.extend_from_slice(part);
    }
    let mut whole = Reader::new(MAX_TELEGRAM);
    let expected = whole.push(&stream);
    assert_eq!(expected.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(expected.len(), 7);

    let mut bytewise = Reader::new(MAX_TELEGRAM);
    let got: Results = stream.iter().flat_map(|b| bytewise.push(&[*b])).collect();
    assert_eq!(got, expected);
    assert_eq!(bytewise.stats(), whole.stats());

    let mut rng = Rng(0x5EED_0001);
    for _ in 0..50 {
        let mut chunked = Reader::new(MAX_TELEGRAM);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = rng.below(rest.len().min(64)) + 1;
            got.extend(chunked.push(&rest[..n]));
            rest = &rest[n..];
        }
        assert_eq!(got, expected);
        assert_eq!(chunked.stats(), whole.stats());
    }
}

fn assert_consistent(reader: &Reader, results: &[Result<Telegram, TelegramError>]) {
    let s = reader.stats();
    let errors = results.iter().filter(|r| r.is_err()).count() as u64;
    let oks = results.len() as u64 - errors;
    assert_eq!(
        s.crc_errors + s.truncated + s.too_long + s.malformed,
        errors
    );
    assert_eq!(s.telegrams, oks);
}

#[test]
fn random_noise_never_panics_nor_yields_a_telegram() {
    let mut rng = Rng(0xD5_3A_12_F0);
    // Uniform bytes, then bytes from the telegram alphabet (much more likely
    // to look like a telegram).
    let alphabet = b"/!()*0123456789ABCDEF-:.kWhVAm3\r\n\r\n";
    for round in 0..4000 {
        let len = rng.below(2048);
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                if round % 2 == 0 {
                    rng.next() as u8
                } else {
                    alphabet[rng.below(alphabet.len())]
                }
            })
            .collect();
        let mut reader = Reader::new(1024);
        let results = reader.push(&buf);
        assert!(
            results.iter().all(|r| r.is_err()),
            "round {round}: {results:?}"
        );
        assert_consistent(&reader, &results);
        // Noise before a real telegram does not prevent resynchronisation.
        let after = reader.push(V22);
        assert!(
            matches!(after.last(), Some(Ok(_))),
            "round {round}: {after:?}"
        );
    }
}

#[test]
fn mutated_telegrams_never_panic() {
    let mut rng = Rng(0xC0FF_EE00_1234);
    let mut clean = Vec::new();
    for part in [V5, V4, V22] {
        clean.extend_from_slice(part);
    }
    for _ in 0..2000 {
        let mut buf = clean.clone();
        for _ in 0..=rng.below(8) {
            let at = rng.below(buf.len());
            match rng.below(4) {
                0 => buf[at] ^= 1 << rng.below(8),
                1 => {
                    buf.remove(at);
                }
                2 => buf.insert(at, rng.next() as u8),
                _ => buf[at] = b"/!()\r\n*."[rng.below(8)],
            }
        }
        let mut whole = Reader::new(MAX_TELEGRAM);
        let expected = whole.push(&buf);
        assert_consistent(&whole, &expected);
        let mut small = Reader::new(512);
        let results = small.push(&buf);
        assert_consistent(&small, &results);
        let mut chunked = Reader::new(MAX_TELEGRAM);
        let got: Results = buf.chunks(7).flat_map(|c| chunked.push(c)).collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn too_long_telegram_is_rejected_and_skipped() {
    // The v4 telegram is 623 bytes from '/' through its CRC.
    let v4_len = V4.len() - 2;
    let mut exact = Reader::new(v4_len);
    assert!(exact.push(V4)[0].is_ok());
    let mut short = Reader::new(v4_len - 1);
    assert_eq!(
        short.push(V4),
        vec![Err(TelegramError::TooLong { bytes: v4_len })]
    );
    // Dropped at its last CRC digit: the CRLF after it is skipped.
    assert_eq!(short.stats().skipped_bytes, 2);

    let mut reader = Reader::new(700);
    let mut stream = V5.to_vec();
    stream.extend_from_slice(V4);
    let results = reader.push(&stream);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], Err(TelegramError::TooLong { bytes: 701 }));
    assert!(results[1].is_ok());
    assert_eq!(
        *reader.stats(),
        Stats {
            telegrams: 1,
            too_long: 1,
            skipped_bytes: (V5.len() - 701) as u64,
            unknown_obis: 7,
            ..Stats::default()
        }
    );
}

#[test]
fn stats_count_everything() {
    let mut reader = Reader::new(MAX_TELEGRAM);
    let mut stream = b"xx\r\n".to_vec(); // 4 skipped
    stream.extend_from_slice(V5);
    stream.extend_from_slice(&V4[..100]); // truncated
    stream.extend_from_slice(V4);
    stream.extend_from_slice(b"\r\n\r\n"); // eaten as the telegram's trailer
    stream.extend_from_slice(V22);
    stream.extend_from_slice(b"junk"); // 4 skipped
    let mut bad = V4.to_vec();
    bad[50] ^= 0x20;
    stream.extend_from_slice(&bad); // CRC error
    stream.extend_from_slice(&frame(&["ABC5 meter", "", "1-0:1.8.1(1*furlong)"])); // malformed
    let results = reader.push(&stream);
    assert_eq!(results.len(), 6);
    assert_eq!(
        *reader.stats(),
        Stats {
            telegrams: 3,
            crc_errors: 1,
            truncated: 1,
            too_long: 0,
            malformed: 1,
            skipped_bytes: 8,
            unknown_obis: 10 + 7 + 5,
        }
    );
}

#[test]
fn unit_case_and_scale() {
    let t = ok(&frame(&[
        "TST5 test",
        "",
        "1-3:0.2.8(50)",
        "1-0:1.8.1(000012.5*KWH)",
        "1-0:1.8.2(1500*Wh)",
        "1-0:1.7.0(00.250*KW)",
        "1-0:2.7.0(125*W)",
        "1-0:32.7.0(230*v)",
        "1-0:31.7.0(4*a)",
        "1-0:21.7.0(1.5)",
        "0-1:24.2.1(240101000000W)(00010.000*M3)",
    ]));
    assert_eq!(
        t.readings,
        vec![
            r("Energy import tariff 1", "1-0:1.8.1", Energy(12.5)),
            r("Energy import tariff 2", "1-0:1.8.2", Energy(1.5)),
            r("Power import", "1-0:1.7.0", Power(250.0)),
            r("Power export", "1-0:2.7.0", Power(125.0)),
            r("Voltage L1", "1-0:32.7.0", Voltage(230.0)),
            r("Current L1", "1-0:31.7.0", Current(4.0)),
            // No unit: the specified one (kW).
            r("Power import L1", "1-0:21.7.0", Power(1500.0)),
            // No device type line, but m3: gas.
            r("Gas", "0-1:24.2.1", Gas(10.0)),
        ]
    );
}

#[test]
fn bad_values_are_malformed() {
    for line in [
        "1-0:1.8.1(12.5*kVArh)",
        "1-0:1.8.1(12,5*kWh)",
        "1-0:1.8.1(-12.5*kWh)",
        "1-0:1.8.1(1e3*kWh)",
        "1-0:1.8.1(inf*kWh)",
        "1-0:1.8.1(*kWh)",
        "1-0:1.8.1(1234567890123456*kWh)",
        "1-0:1.8.1(1)(2)",
        "1-0:1.8.1()",
        "1-0:1.8.1(1*kWh",
        "1-0:1.8.1(1*kWh)x",
        "1-0:1.8.1((1))",
        "1-0:1.8.1",
        "1-0:1.8.1.1(1*kWh)",
        "1-0:1.8.256(1*kWh)",
        "(00012.345)",
        "0-0:96.14.0(0001*kWh)",
        "0-1:24.1.0(gas)",
        "0-1:24.1.0(003)\r\n0-1:24.2.1(240101000000W)(00010.000*l)",
        "0-1:24.1.0(003)\r\n0-1:24.2.1(240101000000W)",
        // v2.2 gas without its value line.
        "0-1:24.1.0(3)\r\n0-1:24.3.0(120517020000)(08)(60)(1)(0-1:24.2.1)(m3)",
    ] {
        let e = err(&frame(&["TST5 test", "", line]));
        assert!(matches!(e, TelegramError::Malformed(_)), "{line}: {e:?}");
    }
}

#[test]
fn structural_errors_are_malformed() {
    // No data lines.
    assert!(matches!(
        err(&frame(&["TST5 test", ""])),
        TelegramError::Malformed(_)
    ));
    // Empty header.
    assert!(matches!(
        err(&frame(&["", "", "1-0:1.8.1(1*kWh)"])),
        TelegramError::Malformed(_)
    ));
    // Duplicate code.
    assert!(matches!(
        err(&frame(&[
            "TST5 test",
            "",
            "1-0:1.8.1(1*kWh)",
            "1-0:1.8.1(2*kWh)"
        ])),
        TelegramError::Malformed(_)
    ));
    // A v4/v5 telegram (it has a version line) must carry a CRC.
    assert!(matches!(
        err(&frame_v22(&[
            "TST5 test",
            "",
            "1-3:0.2.8(42)",
            "1-0:1.8.1(1*kWh)"
        ])),
        TelegramError::Malformed(_)
    ));
}

#[test]
fn gas_channel_selection() {
    let t = ok(&frame(&[
        "TST5 test",
        "",
        "0-1:24.1.0(007)",
        "0-1:96.1.0(5731323334)",
        "0-1:24.2.1(240101000000W)(00123.456*m3)",
        "0-2:24.1.0(003)",
        "0-2:96.1.0(4731323334)",
        "0-2:24.2.1(240101000000W)(00042.001*m3)",
        "0-3:24.1.0(003)",
        "0-3:24.2.1(240101000000W)(00077.000*m3)",
    ]));
    assert_eq!(t.readings, vec![r("Gas", "0-2:24.2.1", Gas(42.001))]);
    assert_eq!(t.gas_equipment_id.as_deref(), Some("G1234"));
    let (_, stats) = one(&frame(&[
        "TST5 test",
        "",
        "0-1:24.1.0(007)",
        "0-1:24.2.1(240101000000W)(00123.456*m3)",
        "0-2:24.2.1(240101000000W)(00042.001*m3)",
    ]));
    // Water on channel 1 is not mapped.
    assert_eq!(stats.unknown_obis, 1);
    // Device type after the reading still counts; Belgian 24.2.3 accepted.
    let t = ok(&frame(&[
        "TST5 test",
        "",
        "0-1:24.2.3(240101000000W)(00005.500*m3)",
        "0-1:24.1.0(003)",
    ]));
    assert_eq!(t.readings, vec![r("Gas", "0-1:24.2.3", Gas(5.5))]);
    // No device type, no unit: not known to be gas.
    let t = ok(&frame(&[
        "TST5 test",
        "",
        "0-4:24.2.1(240101000000W)(00005.500)",
    ]));
    assert!(t.readings.is_empty());
}

#[test]
fn equipment_ids() {
    for (raw, id) in [
        ("4B384547303034303436333935353037", Some("K8EG004046395507")),
        ("12345678", Some("12345678")), // hex but not printable ASCII
        ("K8EG0040", Some("K8EG0040")),
        ("123", Some("123")),
        ("2020", None), // two spaces
        ("", None),
    ] {
        let line = format!("0-0:96.1.1({raw})");
        let t = ok(&frame_v22(&["TST5 test", "", &line]));
        assert_eq!(t.equipment_id.as_deref(), id, "{raw}");
    }
}

#[test]
fn version_text() {
    assert_eq!(obis::version("50"), "5.0");
    assert_eq!(obis::version("42"), "4.2");
    assert_eq!(obis::version("50217"), "50217");
}

#[test]
fn decimal_is_exact() {
    assert_eq!(obis::decimal("01.193", 3), Some(1193.0));
    assert_eq!(obis::decimal("0000.36", 3), Some(360.0));
    assert_eq!(obis::decimal("004527.112", 0), Some(4527.112));
    assert_eq!(obis::decimal("1500", -3), Some(1.5));
    assert_eq!(obis::decimal("0002", 0), Some(2.0));
    assert_eq!(obis::decimal("5.", 0), Some(5.0));
    assert_eq!(obis::decimal(".5", 0), Some(0.5));
    for bad in [
        "",
        ".",
        "1.2.3",
        "-1",
        "+1",
        "1e5",
        "NaN",
        " 1",
        "1234567890123456",
    ] {
        assert_eq!(obis::decimal(bad, 0), None, "{bad}");
    }
}

#[test]
fn mapping_table_is_consistent() {
    for m in MAP {
        assert_eq!(Obis::parse(m.obis), Some(m.code), "{}", m.obis);
        assert_eq!(m.code.to_string(), m.obis);
    }
    let mut names: Vec<&str> = MAP.iter().map(|m| m.entity).collect();
    names.push("Gas");
    assert_eq!(names, ENTITIES);
    for ch in 1..=4u8 {
        for (d, e) in [(2, 1), (2, 3), (3, 0)] {
            let code = Obis::parse(&format!("0-{ch}:24.{d}.{e}")).unwrap();
            let (name, _) = obis::gas_code(code).unwrap();
            assert_eq!(name, code.to_string());
        }
    }
    assert_eq!(Obis::parse("0-0:96.1.1"), Some(obis::EQUIPMENT_ID));
    assert_eq!(Obis::parse("1-3:0.2.8"), Some(obis::VERSION));
    assert_eq!(Obis::parse("0-0:1.0.0"), Some(obis::TIMESTAMP));
}

#[test]
fn tiny_limits_do_not_panic() {
    for max in 0..4 {
        let mut reader = Reader::new(max);
        let results = reader.push(V5);
        assert!(results.iter().all(|r| r.is_err()));
        assert_consistent(&reader, &results);
    }
}
