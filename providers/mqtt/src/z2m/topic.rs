//! Classifying topics under the Zigbee2MQTT base topic.
//!
//! Zigbee2MQTT topics (<https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html>):
//! `<base>/bridge/…` (bridge state, info, logging, responses; only
//! `bridge/devices` is used here), `<base>/<friendly_name>` (device state),
//! `<base>/<friendly_name>/availability`, and the command topics
//! `<base>/<friendly_name>/set[/<attr>]` and `/get[/<attr>]`, which other
//! clients (and this provider) publish and which are ignored.
//!
//! Friendly names may contain `/`, so a topic is matched against the known
//! names first: a device literally named `x/availability` still gets its state.

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic<'a> {
    /// `<base>/bridge/devices`.
    Devices,
    /// `<base>/<friendly_name>`: state JSON of that device.
    State(&'a str),
    /// `<base>/<friendly_name>/availability`.
    Availability(&'a str),
    /// Outside the base topic, other bridge topics, and command topics.
    Ignored,
}

/// Classifies `topic`. `is_device` says whether a friendly name is currently known.
pub fn classify<'a>(base: &str, topic: &'a str, is_device: impl Fn(&str) -> bool) -> Topic<'a> {
    let Some(rest) = topic.strip_prefix(base).and_then(|r| r.strip_prefix('/')) else {
        return Topic::Ignored;
    };
    if rest.is_empty() {
        return Topic::Ignored;
    }
    if rest == "bridge/devices" {
        return Topic::Devices;
    }
    if rest.starts_with("bridge/") || rest == "bridge" {
        return Topic::Ignored;
    }
    if is_device(rest) {
        return Topic::State(rest);
    }
    let mut segments = rest.rsplit('/');
    let last = segments.next().unwrap_or("");
    let second_last = segments.next();
    if matches!(last, "set" | "get") || matches!(second_last, Some("set" | "get")) {
        return Topic::Ignored;
    }
    match rest.strip_suffix("/availability") {
        Some(name) if !name.is_empty() => Topic::Availability(name),
        _ => Topic::State(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        ["living/lamp", "odd/availability", "set"].contains(&name)
    }

    #[test]
    fn topics_are_classified() {
        let c = |t| classify("zigbee2mqtt", t, known);
        assert_eq!(c("zigbee2mqtt/bridge/devices"), Topic::Devices);
        assert_eq!(c("zigbee2mqtt/bridge/state"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/bridge/logging"), Topic::Ignored);
        assert_eq!(
            c("zigbee2mqtt/bridge/response/device/rename"),
            Topic::Ignored
        );
        assert_eq!(c("zigbee2mqtt/lamp"), Topic::State("lamp"));
        assert_eq!(c("zigbee2mqtt/living/lamp"), Topic::State("living/lamp"));
        assert_eq!(
            c("zigbee2mqtt/living/lamp/availability"),
            Topic::Availability("living/lamp")
        );
        assert_eq!(
            c("zigbee2mqtt/odd/availability"),
            Topic::State("odd/availability")
        );
        assert_eq!(c("zigbee2mqtt/lamp/set"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/living/lamp/set"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/lamp/set/brightness"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/lamp/get"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/lamp/get/state"), Topic::Ignored);
        // A device literally named "set" still gets its state.
        assert_eq!(c("zigbee2mqtt/set"), Topic::State("set"));
        assert_eq!(c("zigbee2mqtt"), Topic::Ignored);
        assert_eq!(c("zigbee2mqtt/"), Topic::Ignored);
        assert_eq!(c("zigbee2mqttx/lamp"), Topic::Ignored);
        assert_eq!(c("other/lamp"), Topic::Ignored);
        assert_eq!(
            c("zigbee2mqtt//availability"),
            Topic::State("/availability")
        );
    }

    #[test]
    fn multi_level_base_topic() {
        assert_eq!(
            classify("home/z2m", "home/z2m/bridge/devices", known),
            Topic::Devices
        );
        assert_eq!(
            classify("home/z2m", "home/z2m/kitchen/availability", known),
            Topic::Availability("kitchen")
        );
    }
}
