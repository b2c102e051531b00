//! Discovery topics: `<prefix>/<component>/[<node_id>/]<object_id>/config`
//! (one entity per message) and `<prefix>/device/<object_id>/config`
//! (device-based discovery: one device with several components in `cmps`).
//!
//! Source: Home Assistant's MQTT integration docs, "Discovery topic". Topic
//! levels are `[a-zA-Z0-9_-]+` there; this parser accepts any non-empty level
//! without wildcards, since devices in the field are not always strict.

/// The subscriptions that receive every discovery config under `prefix`.
/// `<prefix>/+/+/config` also covers device-based `<prefix>/device/+/config`.
pub fn filters(prefix: &str) -> [String; 2] {
    [
        format!("{prefix}/+/+/config"),
        format!("{prefix}/+/+/+/config"),
    ]
}

/// A parsed discovery topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigTopic<'a> {
    /// The platform (`sensor`, `light`, …), or `device` for device-based discovery.
    pub component: &'a str,
    /// The optional node id level.
    pub node_id: Option<&'a str>,
    /// The object id level.
    pub object_id: &'a str,
}

impl ConfigTopic<'_> {
    /// Device-based discovery (`<prefix>/device/<object_id>/config`).
    pub fn is_device(&self) -> bool {
        self.component == "device" && self.node_id.is_none()
    }

    /// `node_id/object_id` or `object_id`: what identifies this config under its component.
    pub fn discovery_id(&self) -> String {
        match self.node_id {
            Some(node) => format!("{node}/{}", self.object_id),
            None => self.object_id.to_string(),
        }
    }
}

/// Parses `topic` as a discovery config topic under `prefix`; `None` for any other topic.
pub fn parse<'a>(prefix: &str, topic: &'a str) -> Option<ConfigTopic<'a>> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
    let rest = rest.strip_suffix("/config")?;
    let levels: Vec<&str> = rest.split('/').collect();
    if levels
        .iter()
        .any(|l| l.is_empty() || l.contains(['+', '#']))
    {
        return None;
    }
    match levels.as_slice() {
        [component, object_id] => Some(ConfigTopic {
            component,
            node_id: None,
            object_id,
        }),
        [component, node_id, object_id] => Some(ConfigTopic {
            component,
            node_id: Some(node_id),
            object_id,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_topics_are_parsed() {
        let t = parse(
            "homeassistant",
            "homeassistant/sensor/livingroom/temperature/config",
        );
        assert_eq!(
            t,
            Some(ConfigTopic {
                component: "sensor",
                node_id: Some("livingroom"),
                object_id: "temperature"
            })
        );
        assert_eq!(
            t.map(|t| t.discovery_id()).as_deref(),
            Some("livingroom/temperature")
        );
        let t = parse("homeassistant", "homeassistant/switch/ABC123_RL_1/config");
        assert_eq!(
            t.as_ref().map(|t| (t.component, t.node_id)),
            Some(("switch", None))
        );
        let d = parse("homeassistant", "homeassistant/device/plug1/config");
        assert!(d.is_some_and(|d| d.is_device()));
        // A node id called "device" is not device-based discovery.
        let n = parse("homeassistant", "homeassistant/device/x/y/config");
        assert!(n.is_some_and(|n| !n.is_device()));
        assert_eq!(parse("homeassistant", "homeassistant/sensor/config"), None);
        assert_eq!(
            parse("homeassistant", "homeassistant/sensor/a/b/c/config"),
            None
        );
        assert_eq!(parse("homeassistant", "homeassistant/sensor/a/state"), None);
        assert_eq!(parse("homeassistant", "homeassistant/sensor//config"), None);
        assert_eq!(
            parse("homeassistant", "homeassistantx/sensor/a/config"),
            None
        );
        assert_eq!(parse("homeassistant", "homeassistant/status"), None);
        assert_eq!(
            parse("ha/disc", "ha/disc/light/l1/config").map(|t| t.object_id),
            Some("l1")
        );
        assert_eq!(filters("homeassistant")[0], "homeassistant/+/+/config");
    }
}
