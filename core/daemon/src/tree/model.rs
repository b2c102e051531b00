//! The in-memory device tree: devices → entities → components (DESIGN §3).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use igloo_protocol::component::Value as V;
use igloo_protocol::{Component, ComponentId, DeviceId, EntityId};

use crate::store::rooms::DeviceSettings;
use crate::store::{DeviceRecord, EntityRecord};

/// The device attribute a provider sets to say why a device has no entities
/// (`docs/providers.md`).
pub const UNSUPPORTED: &str = "unsupported";

/// The entity attribute listing the components a user may change,
/// comma-separated (`docs/providers.md`); empty = read-only.
pub const WRITABLE: &str = "writable";

/// The entity attribute listing the values a `Select` accepts, comma-separated.
pub const OPTIONS: &str = "options";

/// String components chosen by name, and the entity attribute listing the
/// names (comma-separated; components.toml gives each component's).
pub const NAMED_LISTS: &[(&str, &str)] = &[
    ("Effect", "effects"),
    ("FanPreset", "preset_modes"),
    ("ClimateFanMode", "fan_modes"),
    ("ClimateSwingMode", "swing_modes"),
    ("ClimatePreset", "preset_modes"),
];

/// One device.
#[derive(Debug)]
pub struct Device {
    /// Persistent id.
    pub id: DeviceId,
    /// Owning provider.
    pub provider: Arc<str>,
    /// The provider's stable key.
    pub key: String,
    /// The name the provider gave.
    pub name: String,
    /// What the owner set (name, room); shown over the provider's name.
    pub settings: DeviceSettings,
    /// Attributes (model, manufacturer…).
    pub attributes: Vec<(String, String)>,
    /// Reachable now. False while the provider is down.
    pub available: bool,
    /// Removed by its provider.
    pub removed: bool,
    /// Entities by name.
    pub entities: BTreeMap<Arc<str>, Entity>,
    /// Wire entity number → name, valid for the provider's current connection.
    pub wire: HashMap<EntityId, Arc<str>>,
    /// Changed since the last persist.
    pub dirty: bool,
}

/// One entity.
#[derive(Debug, Default)]
pub struct Entity {
    /// Attributes (`unit`, `options`, `writable`…).
    pub attributes: Vec<(String, String)>,
    /// Current values, one per component id, sorted by id.
    pub components: Vec<Component>,
    /// Wire number in the provider's current connection, if registered.
    pub wire: Option<EntityId>,
}

impl Entity {
    /// Merges `values` in (replacing same-id components).
    pub fn apply(&mut self, values: &[Component]) {
        for v in values {
            let id = v.id();
            match self.components.binary_search_by_key(&id, Component::id) {
                Ok(i) => self.components[i] = v.clone(),
                Err(i) => self.components.insert(i, v.clone()),
            }
        }
    }

    /// Why a change request for `values` cannot work on this entity, when
    /// the entity says so: a component outside its `writable` list, a
    /// `Select` value outside its `options`, or a name outside the list its
    /// component's attribute gives ([`NAMED_LISTS`]; matched ignoring case,
    /// as the providers match it). An entity without `writable`
    /// accepts every component (providers that do not declare it).
    /// Components above `known_max` (the provider's highest component id)
    /// are not checked: the provider cannot have listed them, and the
    /// negotiation withholds them from it (counted as dropped).
    pub fn check_request(
        &self,
        values: &[Component],
        known_max: ComponentId,
    ) -> Result<(), Refused> {
        let known = || values.iter().filter(move |c| c.id() <= known_max);
        if let Some(list) = self.attribute(WRITABLE).filter(|l| l.trim() != "true") {
            let writable: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect();
            let read_only: Vec<String> = known()
                .map(|c| c.name())
                .filter(|n| !writable.contains(n))
                .map(str::to_string)
                .collect();
            if !read_only.is_empty() {
                return Err(Refused::ReadOnly {
                    components: read_only,
                    writable: writable.iter().map(|w| w.to_string()).collect(),
                });
            }
        }
        if let Some(options) = self.attribute(OPTIONS) {
            let options: Vec<&str> = options.split(',').map(str::trim).collect();
            for c in known() {
                if let Component::Select(v) = c
                    && !options.contains(&v.as_str())
                {
                    return Err(Refused::NotAnOption {
                        value: v.clone(),
                        options: options.iter().map(|o| o.to_string()).collect(),
                    });
                }
            }
        }
        for c in known() {
            let Some((_, key)) = NAMED_LISTS.iter().find(|(n, _)| *n == c.name()) else {
                continue;
            };
            let (Some(list), V::String(v)) = (self.attribute(key), c.value()) else {
                continue;
            };
            let names: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            if !names.is_empty() && igloo_protocol::find_name(&names, &v).is_none() {
                return Err(Refused::NotAnOption {
                    value: v,
                    options: names.iter().map(|n| n.to_string()).collect(),
                });
            }
        }
        Ok(())
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A copy for readers outside the tree task.
    pub fn view(&self) -> EntityView {
        EntityView {
            attributes: self.attributes.clone(),
            components: self.components.clone(),
        }
    }
}

/// Why the core refuses a change request to an entity by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// These components are not in the entity's `writable` list.
    ReadOnly {
        /// The requested components that are read-only.
        components: Vec<String>,
        /// What the entity accepts.
        writable: Vec<String>,
    },
    /// A `Select` value is not one of the entity's `options`.
    NotAnOption {
        /// The requested value.
        value: String,
        /// The accepted values.
        options: Vec<String>,
    },
}

/// A copy of one entity, for readers outside the tree task (the API, the
/// event stream); made into JSON only there (`api::views`).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityView {
    /// Attributes (`unit`, `options`, `writable`…), in the provider's order.
    pub attributes: Vec<(String, String)>,
    /// Current values, sorted by component id.
    pub components: Vec<Component>,
}

impl EntityView {
    /// The value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a device can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Reachable, with entities.
    Online,
    /// Not reachable now.
    Offline,
    /// Reachable, but with nothing in it to show or control.
    Unsupported,
}

impl DeviceStatus {
    /// `online`, `offline`, `unsupported`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Online => "online",
            DeviceStatus::Offline => "offline",
            DeviceStatus::Unsupported => "unsupported",
        }
    }
}

/// A copy of one device, for readers outside the tree task.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceView {
    /// Persistent id.
    pub id: DeviceId,
    /// Owning provider.
    pub provider: Arc<str>,
    /// The provider's stable key.
    pub key: String,
    /// Display name: the owner's, else the provider's.
    pub name: String,
    /// The name the provider gave.
    pub provider_name: String,
    /// The room the owner put it in.
    pub room: Option<u64>,
    /// Reachable now.
    pub available: bool,
    /// Online, offline or unsupported.
    pub status: DeviceStatus,
    /// Why it is unsupported, when it is.
    pub unsupported: Option<String>,
    /// Attributes (model, manufacturer…).
    pub attributes: Vec<(String, String)>,
    /// Entities by name, in name order.
    pub entities: Vec<(Arc<str>, EntityView)>,
}

impl Device {
    /// Rebuilds a device from its persisted record (unavailable until its provider reports).
    pub fn from_record(id: DeviceId, r: DeviceRecord) -> Device {
        let entities = r
            .entities
            .into_iter()
            .map(|(name, e)| {
                let mut components = e.known_components();
                components.sort_by_key(Component::id);
                components.dedup_by_key(|c| c.id());
                (
                    Arc::from(name),
                    Entity {
                        attributes: e.attributes,
                        components,
                        wire: None,
                    },
                )
            })
            .collect();
        Device {
            id,
            provider: Arc::from(r.provider),
            key: r.key,
            name: r.name,
            settings: DeviceSettings::default(),
            attributes: r.attributes,
            available: false,
            removed: r.removed,
            entities,
            wire: HashMap::new(),
            dirty: false,
        }
    }

    /// The persisted form.
    pub fn to_record(&self) -> DeviceRecord {
        DeviceRecord {
            provider: self.provider.to_string(),
            key: self.key.clone(),
            name: self.name.clone(),
            attributes: self.attributes.clone(),
            entities: self
                .entities
                .iter()
                .map(|(n, e)| {
                    let components = EntityRecord::encode_components(&e.components);
                    (
                        n.to_string(),
                        EntityRecord {
                            attributes: e.attributes.clone(),
                            components,
                        },
                    )
                })
                .collect(),
            removed: self.removed,
        }
    }

    /// Why the device cannot be used although it is reachable: it has no
    /// entities. The reason is the provider's `unsupported` attribute, or a
    /// general one.
    pub fn unsupported(&self) -> Option<String> {
        if !self.entities.is_empty() {
            return None;
        }
        let said = self
            .attributes
            .iter()
            .find(|(k, _)| k == UNSUPPORTED)
            .map(|(_, v)| v.clone());
        Some(
            said.unwrap_or_else(|| {
                format!("provider {} registered no entities for it", self.provider)
            }),
        )
    }

    /// Online, offline, or unsupported (online, but nothing in it to use).
    pub fn status(&self) -> DeviceStatus {
        match (self.available, self.entities.is_empty()) {
            (false, _) => DeviceStatus::Offline,
            (true, true) => DeviceStatus::Unsupported,
            (true, false) => DeviceStatus::Online,
        }
    }

    /// The owner's name for it, else the provider's.
    pub fn display_name(&self) -> &str {
        self.settings.name.as_deref().unwrap_or(&self.name)
    }

    /// A copy for readers outside the tree task.
    pub fn view(&self) -> DeviceView {
        DeviceView {
            id: self.id,
            provider: self.provider.clone(),
            key: self.key.clone(),
            name: self.display_name().to_string(),
            provider_name: self.name.clone(),
            room: self.settings.room,
            available: self.available,
            status: self.status(),
            unsupported: self.unsupported(),
            attributes: self.attributes.clone(),
            entities: self
                .entities
                .iter()
                .map(|(n, e)| (n.clone(), e.view()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use igloo_protocol::MAX_COMPONENT_ID;

    fn entity(attributes: &[(&str, &str)]) -> Entity {
        Entity {
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Entity::default()
        }
    }

    #[test]
    fn requests_outside_writable_or_options_are_refused() {
        let light = entity(&[(WRITABLE, "Switch, Brightness")]);
        assert_eq!(
            light.check_request(&[Component::Switch(true)], MAX_COMPONENT_ID),
            Ok(())
        );
        assert_eq!(
            light.check_request(
                &[Component::Switch(true), Component::Temperature(5.0)],
                MAX_COMPONENT_ID
            ),
            Err(Refused::ReadOnly {
                components: vec!["Temperature".into()],
                writable: vec!["Switch".into(), "Brightness".into()],
            })
        );
        let sensor = entity(&[(WRITABLE, "")]);
        assert!(matches!(
            sensor.check_request(&[Component::Temperature(5.0)], MAX_COMPONENT_ID),
            Err(Refused::ReadOnly { writable, .. }) if writable.is_empty()
        ));
        // A component the provider does not know is left to the negotiation.
        assert_eq!(
            light.check_request(
                &[Component::Switch(true), Component::Temperature(5.0)],
                Component::Switch(true).id()
            ),
            Ok(())
        );
        // Undeclared, or the legacy "true": the core cannot know; forwarded.
        assert_eq!(
            entity(&[]).check_request(&[Component::Switch(true)], MAX_COMPONENT_ID),
            Ok(())
        );
        assert_eq!(
            entity(&[(WRITABLE, "true")])
                .check_request(&[Component::Number(1.0)], MAX_COMPONENT_ID),
            Ok(())
        );
        let select = entity(&[(WRITABLE, "Select"), (OPTIONS, "Eco,Comfort")]);
        assert_eq!(
            select.check_request(&[Component::Select("Comfort".into())], MAX_COMPONENT_ID),
            Ok(())
        );
        assert_eq!(
            select.check_request(&[Component::Select("Turbo".into())], MAX_COMPONENT_ID),
            Err(Refused::NotAnOption {
                value: "Turbo".into(),
                options: vec!["Eco".into(), "Comfort".into()],
            })
        );
        // Names from a list attribute: matched ignoring case.
        let ac = entity(&[
            (WRITABLE, "ClimateFanMode,ClimatePreset,Effect"),
            ("fan_modes", "auto,low,Turbo"),
            ("preset_modes", "eco, boost"),
        ]);
        let check = |c: Component| ac.check_request(&[c], MAX_COMPONENT_ID);
        assert_eq!(check(Component::ClimateFanMode("turbo".into())), Ok(()));
        assert_eq!(check(Component::ClimatePreset("boost".into())), Ok(()));
        assert_eq!(
            check(Component::ClimateFanMode("high".into())),
            Err(Refused::NotAnOption {
                value: "high".into(),
                options: vec!["auto".into(), "low".into(), "Turbo".into()],
            })
        );
        // Without the list attribute, the provider decides.
        assert_eq!(check(Component::Effect("Rainbow".into())), Ok(()));
    }
}
