//! Discovery out's config payloads: each published entity's Home Assistant
//! discovery config (its `device` block, `origin`, topics and templates from
//! [`map`]), and the gateway's own bridge device that every device names as
//! `via_device`.

use super::*;

impl Publisher {
    /// Rebuilds a device's configs; returns the changed ones and clears
    /// those that are gone.
    pub(super) fn configs(&mut self, id: DeviceId, p: &mut Published) -> Vec<Out> {
        let Some(d) = &p.device else {
            return vec![];
        };
        p.slugs.clear();
        p.names.clear();
        let mut planned: Vec<(String, &TreeEntity, HaEntity)> = Vec::new();
        for e in &d.entities {
            let mut slug = map::slug(&e.name);
            let mut n = 2;
            while p.slugs.contains_key(&slug) {
                slug = format!("{}_{n}", map::slug(&e.name));
                n += 1;
            }
            p.slugs.insert(slug.clone(), e.name.clone());
            p.names.insert(e.name.clone(), slug.clone());
            let plan = map::plan(e);
            let key = format!("{id}/{}", e.name);
            match plan.skipped {
                Some(why) => {
                    if self.skipped.insert(key, why.clone()).as_deref() != Some(why.as_str()) {
                        tracing::info!(device = %id, entity = e.name, "not published: {why}");
                    }
                }
                None => {
                    self.skipped.remove(&key);
                }
            }
            for h in plan.entities {
                planned.push((slug.clone(), e, h));
            }
        }
        let mut now = BTreeMap::new();
        match self.opts.mode {
            Mode::Entity => {
                for (slug, e, h) in &planned {
                    let object = object_id(slug, h);
                    let topic = format!(
                        "{}/{}/igloo_{id}/{object}/config",
                        self.opts.prefix, h.platform
                    );
                    let mut config = self.entity_config(id, slug, e, h);
                    config.insert("device".into(), self.device_block(id, d));
                    config.insert("origin".into(), self.origin());
                    now.insert(topic, Json::Object(config).to_string());
                }
            }
            Mode::Device => {
                let mut cmps = Map::new();
                for (slug, e, h) in &planned {
                    let mut config = self.entity_config(id, slug, e, h);
                    config.insert("platform".into(), json!(h.platform));
                    cmps.insert(object_id(slug, h), Json::Object(config));
                }
                let topic = format!("{}/device/igloo_{id}/config", self.opts.prefix);
                let config = json!({
                    "device": self.device_block(id, d),
                    "origin": self.origin(),
                    "components": cmps,
                });
                now.insert(topic, config.to_string());
            }
        }
        let mut out = Vec::new();
        for topic in p.configs.keys() {
            if !now.contains_key(topic) {
                out.push(Out::retained(topic.clone(), String::new()));
            }
        }
        for (topic, payload) in &now {
            if p.configs.get(topic) != Some(payload) {
                out.push(Out::retained(topic.clone(), payload.clone()));
            }
        }
        p.configs = now;
        out
    }

    pub(super) fn entity_config(
        &self,
        id: DeviceId,
        slug: &str,
        e: &TreeEntity,
        h: &HaEntity,
    ) -> Map<String, Json> {
        let mut c = h.config.clone();
        let object = object_id(slug, h);
        let name = match h.component {
            Some(comp) => format!("{} {}", e.name, comp),
            None => e.name.clone(),
        };
        c.insert("name".into(), json!(name));
        c.insert("unique_id".into(), json!(format!("igloo_{id}_{object}")));
        let state = format!("{}/{id}/{slug}", self.opts.base_topic);
        let command = format!("{state}/set");
        let (reads, writes) = map::topic_keys(h.platform);
        for key in reads {
            if map::topic_needed(h.platform, key, &c) {
                c.insert((*key).into(), json!(state));
            }
        }
        if h.commands {
            for key in writes {
                if map::topic_needed(h.platform, key, &c) {
                    c.insert((*key).into(), json!(command));
                }
            }
        }
        if h.platform == "cover" && !c.contains_key("position_template") {
            c.remove("position_topic");
            c.remove("set_position_topic");
        }
        c.insert(
            "availability".into(),
            json!([{"topic": self.bridge_topic()},
                   {"topic": format!("{}/{id}/availability", self.opts.base_topic)}]),
        );
        c.insert("availability_mode".into(), json!("all"));
        if let Some(cat) = e
            .attributes
            .iter()
            .find(|(k, _)| k == "category")
            .map(|(_, v)| v.as_str())
            .filter(|v| ["config", "diagnostic"].contains(v))
        {
            // Home Assistant refuses `config` for entities that take no commands.
            let cat = if cat == "config" && !h.commands {
                "diagnostic"
            } else {
                cat
            };
            c.insert("entity_category".into(), json!(cat));
        }
        c
    }

    pub(super) fn device_block(&self, id: DeviceId, d: &TreeDevice) -> Json {
        let mut b = Map::new();
        b.insert("identifiers".into(), json!([format!("igloo_{id}")]));
        b.insert("name".into(), json!(d.name));
        for (attr, key) in [
            ("manufacturer", "manufacturer"),
            ("model", "model"),
            ("sw_version", "sw_version"),
            ("hw_version", "hw_version"),
        ] {
            if let Some((_, v)) = d.attributes.iter().find(|(k, _)| k == attr) {
                b.insert(key.into(), json!(v));
            }
        }
        if !d.room.is_empty() {
            b.insert("suggested_area".into(), json!(d.room));
        }
        b.insert("via_device".into(), json!(self.bridge_id()));
        Json::Object(b)
    }

    pub(super) fn bridge_id(&self) -> String {
        format!("igloo_bridge_{}", map::slug(&self.opts.base_topic))
    }

    pub(super) fn origin(&self) -> Json {
        json!({"name": "Igloo", "sw_version": self.opts.sw_version})
    }

    /// The gateway itself: a connectivity binary sensor on the bridge topic,
    /// the device every published device names as `via_device`, in the
    /// configured mode: `<prefix>/binary_sensor/<bridge>/connection/config`,
    /// or `<prefix>/device/<bridge>/config` with the sensor as its one
    /// component. The other mode's topic is cleared first (an empty retained
    /// payload), so a mode change leaves no second config with the same
    /// `unique_id` behind.
    pub(super) fn bridge_config(&self) -> [Out; 2] {
        let object = self.bridge_id();
        let entity_topic = format!(
            "{}/binary_sensor/{object}/connection/config",
            self.opts.prefix
        );
        let device_topic = format!("{}/device/{object}/config", self.opts.prefix);
        let mut sensor = json!({
            "name": "Connection",
            "unique_id": format!("{object}_connection"),
            "state_topic": self.bridge_topic(),
            "payload_on": "online",
            "payload_off": "offline",
            "device_class": "connectivity",
            "entity_category": "diagnostic",
        });
        let device = json!({"identifiers": [object], "name": "Igloo",
                            "manufacturer": "Igloo", "model": "Gateway",
                            "sw_version": self.opts.sw_version});
        match self.opts.mode {
            Mode::Entity => {
                sensor["device"] = device;
                sensor["origin"] = self.origin();
                [
                    Out::retained(device_topic, String::new()),
                    Out::retained(entity_topic, sensor.to_string()),
                ]
            }
            Mode::Device => {
                sensor["platform"] = json!("binary_sensor");
                let config = json!({
                    "device": device,
                    "origin": self.origin(),
                    "components": {"connection": sensor},
                });
                [
                    Out::retained(entity_topic, String::new()),
                    Out::retained(device_topic, config.to_string()),
                ]
            }
        }
    }
}

/// The object id of one Home Assistant entity of an Igloo entity.
fn object_id(slug: &str, h: &HaEntity) -> String {
    match h.component {
        Some(c) => format!("{slug}_{}", map::snake(c)),
        None => slug.to_string(),
    }
}
