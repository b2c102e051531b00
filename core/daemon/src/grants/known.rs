//! A shipped table of common Zigbee / Z-Wave / USB-serial sticks, recognised by USB VID:PID
//! and, where a VID:PID is shared by several products, by the USB product string.
//!
//! Users name a stick by what it is (`known = "conbee2"` or `known = "zigbee"`), never by
//! `/dev/ttyUSB0` vs `ttyACM0`.

use super::sysfs::UsbInfo;

/// What a stick speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DongleKind {
    /// A Zigbee coordinator (EZSP, ZNP, deCONZ, …).
    Zigbee,
    /// A Z-Wave controller (Serial API).
    ZWave,
    /// A Thread / OpenThread radio co-processor.
    Thread,
    /// A plain USB-serial adapter (whatever is behind it).
    Serial,
}

impl DongleKind {
    /// The lowercase name used in configuration: `zigbee`, `zwave`, `thread`, `serial`.
    pub fn as_str(self) -> &'static str {
        match self {
            DongleKind::Zigbee => "zigbee",
            DongleKind::ZWave => "zwave",
            DongleKind::Thread => "thread",
            DongleKind::Serial => "serial",
        }
    }

    /// Parses a radio kind name as used in a grant rule's `known` field, case-insensitively:
    /// `zigbee`, `zwave`, `thread`. `serial` is deliberately not accepted: "any USB-serial
    /// adapter" is not a useful grant; name the adapter by `usb`/`serial`/`by_id` instead.
    pub fn from_rule_name(s: &str) -> Option<DongleKind> {
        match s.to_ascii_lowercase().as_str() {
            "zigbee" => Some(DongleKind::Zigbee),
            "zwave" => Some(DongleKind::ZWave),
            "thread" => Some(DongleKind::Thread),
            _ => None,
        }
    }
}

/// One known USB stick.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownDongle {
    /// Stable id used in configuration: lowercase `[a-z0-9-]`, e.g. `conbee2`.
    pub id: &'static str,
    /// Human name, e.g. `ConBee II`.
    pub name: &'static str,
    /// What it speaks.
    pub kind: DongleKind,
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// A case-insensitive substring the USB product string must contain, to tell apart
    /// sticks sharing a VID:PID (a bridge chip's stock ids). `None`: VID:PID alone suffices.
    pub product: Option<&'static str>,
}

/// The table. For each VID:PID at most one entry has `product: None` (the fallback);
/// entries with a product requirement win when they match ([`identify`]).
pub static KNOWN: &[KnownDongle] = &[
    // dresden elektronik's own VID, CDC-ACM (phoscon.de ConBee II docs; z2m "supported adapters").
    KnownDongle {
        id: "conbee2",
        name: "ConBee II",
        kind: DongleKind::Zigbee,
        vid: 0x1cf1,
        pid: 0x0030,
        product: None,
    },
    // FTDI FT230X with product string "ConBee III" (phoscon.de ConBee III docs; z2m adapters).
    KnownDongle {
        id: "conbee3",
        name: "ConBee III",
        kind: DongleKind::Zigbee,
        vid: 0x0403,
        pid: 0x6015,
        product: Some("ConBee III"),
    },
    // FTDI FT-X family stock id (FTDI TN_100 / Linux ftdi_sio id table).
    KnownDongle {
        id: "ftdi-ftx",
        name: "FTDI FT-X USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x0403,
        pid: 0x6015,
        product: None,
    },
    // FTDI FT232R stock id (Linux ftdi_sio id table).
    KnownDongle {
        id: "ftdi-ft232r",
        name: "FTDI FT232R USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x0403,
        pid: 0x6001,
        product: None,
    },
    // WCH CH9102F with product "SONOFF Zigbee 3.0 USB Dongle Plus V2" (ITEAD ZBDongle-E
    // manual; z2m adapters by-id example "usb-ITEAD_SONOFF_Zigbee_3.0_USB_Dongle_Plus_V2_…").
    //
    // 1a86:55d4 is the CH9102F's *stock* id, also used by many ESP32 dev boards, so the
    // VID:PID alone does not prove a Zigbee radio: granting a Zigbee provider an ESP32 board
    // would be wrong. We therefore require Sonoff's product string and fall back to the
    // generic `ch9102` Serial entry. (Early ZBDongle-E batches kept the stock "USB Single
    // Serial" string; those need a `usb`, `serial` or `by_id` rule.)
    KnownDongle {
        id: "sonoff-zbdongle-e",
        name: "Sonoff Zigbee 3.0 USB Dongle Plus (ZBDongle-E, EFR32MG21)",
        kind: DongleKind::Zigbee,
        vid: 0x1a86,
        pid: 0x55d4,
        product: Some("Zigbee 3.0 USB Dongle Plus"),
    },
    // WCH CH9102F stock id (WCH CH9102 datasheet; Linux cdc_acm serves it).
    KnownDongle {
        id: "ch9102",
        name: "WCH CH9102 USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x1a86,
        pid: 0x55d4,
        product: None,
    },
    // WCH CH340 stock id (WCH CH340 datasheet; Linux ch341 id table).
    KnownDongle {
        id: "ch340",
        name: "WCH CH340 USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x1a86,
        pid: 0x7523,
        product: None,
    },
    // CP2102N with product "Sonoff Zigbee 3.0 USB Dongle Plus" (ITEAD ZBDongle-P manual; z2m
    // adapters by-id example "usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_…").
    KnownDongle {
        id: "sonoff-zbdongle-p",
        name: "Sonoff Zigbee 3.0 USB Dongle Plus (ZBDongle-P, CC2652P)",
        kind: DongleKind::Zigbee,
        vid: 0x10c4,
        pid: 0xea60,
        product: Some("Sonoff Zigbee 3.0 USB Dongle Plus"),
    },
    // CP2102N with product "SkyConnect v1.0" (Home Assistant SkyConnect docs / Nabu Casa).
    // Ships Zigbee (EmberZNet) firmware; it can be reflashed for Thread (multiprotocol).
    KnownDongle {
        id: "ha-skyconnect",
        name: "Home Assistant SkyConnect",
        kind: DongleKind::Zigbee,
        vid: 0x10c4,
        pid: 0xea60,
        product: Some("SkyConnect"),
    },
    // CP2102N with product "Home Assistant Connect ZBT-1" (the renamed SkyConnect; HA docs).
    KnownDongle {
        id: "ha-connect-zbt1",
        name: "Home Assistant Connect ZBT-1",
        kind: DongleKind::Zigbee,
        vid: 0x10c4,
        pid: 0xea60,
        product: Some("ZBT-1"),
    },
    // CP2102N with product "slae.sh cc2652rb stick - slaesh's iot stuff" (slae.sh docs; z2m
    // adapters by-id example).
    KnownDongle {
        id: "slaesh-cc2652rb",
        name: "slae.sh CC2652RB stick",
        kind: DongleKind::Zigbee,
        vid: 0x10c4,
        pid: 0xea60,
        product: Some("slae.sh"),
    },
    // Silicon Labs CP210x stock id (Linux cp210x id table).
    KnownDongle {
        id: "cp210x",
        name: "Silicon Labs CP210x USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x10c4,
        pid: 0xea60,
        product: None,
    },
    // TI CC2531 USB dongle with Z-Stack firmware, CDC-ACM (z2m adapters; TI's VID).
    KnownDongle {
        id: "cc2531",
        name: "TI CC2531 USB dongle",
        kind: DongleKind::Zigbee,
        vid: 0x0451,
        pid: 0x16a8,
        product: None,
    },
    // Sigma Designs Z-Wave 500-series USB CDC id: Aeotec Z-Stick Gen5/Gen5+, UZB (Z-Wave JS
    // docs; Aeotec Z-Stick Gen5 manual).
    KnownDongle {
        id: "aeotec-zstick-gen5",
        name: "Aeotec Z-Stick Gen5 (Z-Wave 500 series)",
        kind: DongleKind::ZWave,
        vid: 0x0658,
        pid: 0x0200,
        product: None,
    },
    // Prolific PL2303 stock id (Linux pl2303 id table).
    KnownDongle {
        id: "pl2303",
        name: "Prolific PL2303 USB-serial adapter",
        kind: DongleKind::Serial,
        vid: 0x067b,
        pid: 0x2303,
        product: None,
    },
];

/// Case-insensitive (Unicode lowercase) substring test: does `haystack` contain `needle`?
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Looks up a table entry by its [`KnownDongle::id`] (exact, lowercase).
pub fn by_id(id: &str) -> Option<&'static KnownDongle> {
    KNOWN.iter().find(|d| d.id == id)
}

/// Identifies a USB device: among [`KNOWN`] entries with its VID:PID, the first whose
/// `product` requirement is contained (case-insensitively) in `usb.product` wins; otherwise
/// the VID:PID's fallback entry (`product: None`), e.g. the generic `cp210x` Serial entry
/// for an unrecognised `10c4:ea60`; `None` when the VID:PID is not in the table.
pub fn identify(usb: &UsbInfo) -> Option<&'static KnownDongle> {
    let mut same_ids = KNOWN
        .iter()
        .filter(|d| d.vid == usb.vid && d.pid == usb.pid);
    let specific = same_ids
        .clone()
        .find(|d| match (d.product, usb.product.as_deref()) {
            (Some(want), Some(have)) => contains_ignore_case(have, want),
            _ => false,
        });
    specific.or_else(|| same_ids.find(|d| d.product.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn usb(vid: u16, pid: u16, product: Option<&str>) -> UsbInfo {
        UsbInfo {
            vid,
            pid,
            product: product.map(str::to_owned),
            ..UsbInfo::default()
        }
    }

    fn id_of(vid: u16, pid: u16, product: Option<&str>) -> Option<&'static str> {
        identify(&usb(vid, pid, product)).map(|d| d.id)
    }

    #[test]
    fn table_is_consistent() {
        let mut ids = HashSet::new();
        let mut fallbacks = HashSet::new();
        for d in KNOWN {
            assert!(ids.insert(d.id), "duplicate id {}", d.id);
            assert!(
                d.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "id {}",
                d.id
            );
            assert!(
                DongleKind::from_rule_name(d.id).is_none(),
                "id {} is a kind",
                d.id
            );
            if d.product.is_none() {
                assert!(fallbacks.insert((d.vid, d.pid)), "two fallbacks {}", d.id);
            }
            assert_eq!(by_id(d.id), Some(d));
        }
    }

    #[test]
    fn unambiguous_ids() {
        assert_eq!(id_of(0x1cf1, 0x0030, None), Some("conbee2"));
        assert_eq!(
            id_of(0x0451, 0x16a8, Some("TI CC2531 USB CDC")),
            Some("cc2531")
        );
        assert_eq!(id_of(0x0658, 0x0200, None), Some("aeotec-zstick-gen5"));
        assert_eq!(id_of(0x1a86, 0x7523, Some("USB Serial")), Some("ch340"));
        assert_eq!(
            id_of(0x0403, 0x6001, Some("FT232R USB UART")),
            Some("ftdi-ft232r")
        );
        assert_eq!(id_of(0x067b, 0x2303, None), Some("pl2303"));
        assert_eq!(id_of(0x1234, 0x5678, Some("ConBee III")), None);
        assert_eq!(
            identify(&usb(0x0658, 0x0200, None)).map(|d| d.kind),
            Some(DongleKind::ZWave)
        );
    }

    #[test]
    fn cp210x_needs_the_product_string() {
        let cases = [
            (
                Some("Sonoff Zigbee 3.0 USB Dongle Plus"),
                "sonoff-zbdongle-p",
            ),
            (
                Some("SONOFF ZIGBEE 3.0 USB DONGLE PLUS"),
                "sonoff-zbdongle-p",
            ),
            (Some("SkyConnect v1.0"), "ha-skyconnect"),
            (Some("Home Assistant Connect ZBT-1"), "ha-connect-zbt1"),
            (
                Some("slae.sh cc2652rb stick - slaesh's iot stuff"),
                "slaesh-cc2652rb",
            ),
            (Some("CP2102N USB to UART Bridge Controller"), "cp210x"),
            (Some(""), "cp210x"),
            (None, "cp210x"),
        ];
        for (product, want) in cases {
            assert_eq!(id_of(0x10c4, 0xea60, product), Some(want), "{product:?}");
        }
        assert_eq!(
            identify(&usb(0x10c4, 0xea60, None)).map(|d| d.kind),
            Some(DongleKind::Serial)
        );
    }

    #[test]
    fn ftdi_ftx_needs_conbee_iii_product() {
        assert_eq!(id_of(0x0403, 0x6015, Some("ConBee III")), Some("conbee3"));
        assert_eq!(id_of(0x0403, 0x6015, Some("conbee iii")), Some("conbee3"));
        assert_eq!(
            id_of(0x0403, 0x6015, Some("FT230X Basic UART")),
            Some("ftdi-ftx")
        );
        assert_eq!(id_of(0x0403, 0x6015, None), Some("ftdi-ftx"));
    }

    #[test]
    fn ch9102_is_zigbee_only_with_sonoff_product() {
        assert_eq!(
            id_of(0x1a86, 0x55d4, Some("SONOFF Zigbee 3.0 USB Dongle Plus V2")),
            Some("sonoff-zbdongle-e")
        );
        assert_eq!(
            id_of(0x1a86, 0x55d4, Some("USB Single Serial")),
            Some("ch9102")
        );
        assert_eq!(id_of(0x1a86, 0x55d4, None), Some("ch9102"));
        // A product string of another VID:PID's entry does not leak across ids.
        assert_eq!(id_of(0x1a86, 0x7523, Some("ConBee III")), Some("ch340"));
    }

    #[test]
    fn kinds() {
        assert_eq!(
            DongleKind::from_rule_name("ZigBee"),
            Some(DongleKind::Zigbee)
        );
        assert_eq!(DongleKind::from_rule_name("zwave"), Some(DongleKind::ZWave));
        assert_eq!(
            DongleKind::from_rule_name("thread"),
            Some(DongleKind::Thread)
        );
        assert_eq!(DongleKind::from_rule_name("serial"), None);
        for k in [DongleKind::Zigbee, DongleKind::ZWave, DongleKind::Thread] {
            assert_eq!(DongleKind::from_rule_name(k.as_str()), Some(k));
        }
        assert!(contains_ignore_case("ÄBC", "äb"));
    }
}
