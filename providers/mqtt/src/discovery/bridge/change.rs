//! Change requests for discovered entities → publishes (see [`super::command`]
//! for the payload forms).

use std::collections::BTreeMap;

use igloo_provider::{Component, DeviceId, EntityId};
use minijinja::Value;
use serde_json::Map;

use super::{Compiled, Discovery, Installed, Publish};
use crate::discovery::command::{self, Command};
use crate::discovery::plan::WriteConv;
use crate::discovery::template::{TemplateError, command_context};

impl Discovery {
    /// A change request → publishes, or why nothing can be sent. `None` when
    /// `device` is not a discovered device.
    pub fn change(
        &self,
        device: DeviceId,
        entity: EntityId,
        values: &[Component],
    ) -> Option<Result<Vec<Publish>, String>> {
        let dev = self.devices.values().find(|d| d.id == device)?;
        let installed: Vec<(&String, &Installed)> = dev
            .entities
            .iter()
            .filter_map(|id| self.entities.get(id).map(|e| (id, e)))
            .filter(|(_, e)| e.entity == entity)
            .collect();
        if installed.is_empty() {
            return Some(Err("this entity is no longer discovered".into()));
        }
        let mut out: Vec<Publish> = Vec::new();
        let mut last: Vec<Publish> = Vec::new();
        let mut json: BTreeMap<String, (Map<String, serde_json::Value>, u8, bool)> =
            BTreeMap::new();
        // Template-schema lights: per command topic, the values for its one
        // render (`state` true unless the request turns the light off).
        let mut templated: BTreeMap<String, Templated> = BTreeMap::new();
        let mut problems: Vec<String> = Vec::new();
        for value in values {
            let found = installed.iter().find_map(|(id, e)| {
                let i = e
                    .plan
                    .writes
                    .iter()
                    .position(|w| w.component == value.name())?;
                Some((*id, *e, i))
            });
            let Some((id, e, i)) = found else {
                if e_marker(&installed, value) {
                    continue;
                }
                problems.push(format!("{} cannot be set on this entity", value.name()));
                continue;
            };
            let w = &e.plan.writes[i];
            if matches!(w.conv, WriteConv::LightJson { .. }) {
                let entry = json
                    .entry(w.topic.clone())
                    .or_insert_with(|| (Map::new(), w.qos, w.retain));
                if let Err(why) = command::light_json(&w.conv, value, &mut entry.0) {
                    problems.push(format!("{}: {why}", value.name()));
                }
                continue;
            }
            if matches!(w.conv, WriteConv::LightTemplate { .. }) {
                let entry = templated
                    .entry(w.topic.clone())
                    .or_insert_with(|| Templated {
                        values: BTreeMap::from([("state", Value::from(true))]),
                        any: false,
                        template: &e.writes[i],
                        qos: w.qos,
                        retain: w.retain,
                        id,
                        entity: &e.plan.name,
                    });
                match command::light_template(&w.conv, value, &mut entry.values) {
                    Ok(()) => entry.any = true,
                    Err(why) => problems.push(format!("{}: {why}", value.name())),
                }
                continue;
            }
            let cmd = match command::encode(&w.conv, value) {
                Ok(c) => c,
                Err(why) => {
                    problems.push(format!("{}: {why}", value.name()));
                    continue;
                }
            };
            let payload = match self.apply_command_template(&e.writes[i], cmd) {
                Ok(p) => p,
                Err(err) => {
                    tracing::warn!(id, entity = e.plan.name, "command template failed: {err}");
                    problems.push(format!(
                        "{}: the command template failed: {err}",
                        value.name()
                    ));
                    continue;
                }
            };
            let p = Publish {
                topic: w.topic.clone(),
                payload,
                qos: w.qos,
                retain: w.retain,
            };
            // Home Assistant's default on_command_type `last`: on/off after the rest.
            if w.component == "Switch" {
                last.push(p);
            } else {
                out.push(p);
            }
        }
        for (topic, (map, qos, retain)) in json {
            if !map.is_empty() {
                out.push(Publish {
                    topic,
                    payload: command::light_json_text(map),
                    qos,
                    retain,
                });
            }
        }
        for (topic, t) in templated {
            if !t.any {
                // Every value of it failed above: nothing to send.
                continue;
            }
            let ctx = Value::from_pairs(t.values);
            let rendered = match t.template {
                Ok(Some(id)) => self.templates.render(id, &ctx),
                Ok(None) => continue,
                Err(e) => Err(e.clone()),
            };
            match rendered {
                Ok(payload) => out.push(Publish {
                    topic,
                    payload,
                    qos: t.qos,
                    retain: t.retain,
                }),
                Err(err) => {
                    tracing::warn!(
                        id = t.id,
                        entity = t.entity,
                        "command template failed: {err}"
                    );
                    problems.push(format!("the command template failed: {err}"));
                }
            }
        }
        out.extend(last);
        if out.is_empty() {
            let why = if problems.is_empty() {
                "nothing to send".to_string()
            } else {
                problems.join("; ")
            };
            return Some(Err(why));
        }
        for p in &problems {
            tracing::warn!(device = %device, entity, "part of a change request not sent: {p}");
        }
        Some(Ok(out))
    }

    fn apply_command_template(
        &self,
        compiled: &Compiled,
        cmd: Command,
    ) -> Result<String, TemplateError> {
        match compiled {
            Ok(None) => Ok(cmd.payload),
            Ok(Some(t)) => self
                .templates
                .render(t, &command_context(cmd.value, &cmd.extra)),
            Err(e) => Err(e.clone()),
        }
    }
}

/// A template-schema light's command being gathered from a request.
struct Templated<'a> {
    /// The names its command template gets.
    values: BTreeMap<&'static str, Value>,
    /// Some value of the request is in `values`.
    any: bool,
    template: &'a Compiled,
    qos: u8,
    retain: bool,
    id: &'a str,
    entity: &'a str,
}

/// Writing an entity's own marker (other than a button's) is accepted and ignored.
fn e_marker(installed: &[(&String, &Installed)], value: &Component) -> bool {
    installed
        .iter()
        .any(|(_, e)| e.plan.marker.as_ref() == Some(value) && *value != Component::ButtonPress)
}
