//! Tree observation, change requests and entity removal between providers
//! (`ObserveTree`, `RequestChange`, `RemoveEntity`; docs/providers.md): the `tree` permission in the core
//! config decides, ownership stays intact, and a change request takes the
//! same checks as a user's. Real core, real SDK providers (`igloo-tree-probe`).

use igloo_tests::{Core, ProviderSpec, SHORT, bin, providers_toml, wait_for};
use serde_json::{Value, json};

/// `FORBIDDEN`, `NOT_OWNER`, `UNKNOWN_ENTITY`, `INVALID`, `UNAVAILABLE` (igloo_protocol::ErrorCode).
const FORBIDDEN: u64 = 9;
const NOT_OWNER: u64 = 4;
const UNKNOWN_ENTITY: u64 = 5;
const INVALID: u64 = 6;
const UNAVAILABLE: u64 = 10;

fn probe(name: &str, tree: Option<&str>) -> ProviderSpec {
    let spec = ProviderSpec::new(name, bin("igloo-tree-probe"));
    match tree {
        Some(t) => spec.line(&format!("tree = \"{t}\"")),
        None => spec,
    }
}

struct Setup {
    core: Core,
    /// Device id of each probe's lamp: none, read, control.
    lamps: [u64; 3],
}

impl Setup {
    fn start() -> Setup {
        let core = Core::start(&providers_toml(&[
            probe("none", None),
            probe("reader", Some("read")),
            probe("control", Some("control")),
        ]));
        let api = core.api().clone();
        let lamps = wait_for(SHORT, "three probe lamps", || {
            let devices = api.devices();
            let id = |p: &str| {
                devices
                    .iter()
                    .find(|d| d.provider == p && d.key == "probe-lamp")
                    .map(|d| d.id)
                    .ok_or_else(|| format!("no lamp of {p}"))
            };
            Ok([id("none")?, id("reader")?, id("control")?])
        });
        Setup { core, lamps }
    }

    fn command(&self, provider: &str, command: &str, body: Value) -> Value {
        let (code, reply) = self.core.api().command(provider, command, &body);
        assert_eq!(code, 200, "{provider} {command}: {reply}");
        let text = reply["body"]
            .as_str()
            .map_or_else(|| reply["body"].to_string(), str::to_string);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{command} reply {text}: {e}"))
    }

    fn tree(&self, provider: &str) -> Value {
        self.command(provider, "probe.tree", json!({}))
    }

    fn request(&self, provider: &str, device: u64, entity: &str, on: bool) -> Value {
        self.command(
            provider,
            "probe.request",
            json!({"device": device, "entity": entity, "switch": on}),
        )
    }

    fn switch_of(&self, device: u64) -> Option<Value> {
        let d = self.core.api().device(device);
        d.entities.get("Light")?.components.get("Switch").cloned()
    }
}

#[test]
fn observing_the_tree_needs_read_and_sees_every_provider() {
    let s = Setup::start();
    assert_eq!(
        s.command("none", "probe.observe", json!({})),
        json!({"ok": true})
    );
    let refused = wait_for(
        SHORT,
        "FORBIDDEN for the provider without tree access",
        || {
            let t = s.tree("none");
            t["errors"]
                .as_array()
                .and_then(|e| e.iter().find(|e| e["code"] == FORBIDDEN).cloned())
                .ok_or_else(|| format!("no refusal yet: {t}"))
        },
    );
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("tree = \"read\"")),
        "{refused}"
    );
    assert_eq!(s.tree("none")["synced"], 0);
    // Baseline: with `read` the same request streams the whole tree.
    s.command("reader", "probe.observe", json!({}));
    let t = wait_for(SHORT, "the reader's snapshot", || {
        let t = s.tree("reader");
        (t["synced"] == 1 && t["devices"].as_object().is_some_and(|d| d.len() == 3))
            .then_some(t.clone())
            .ok_or_else(|| format!("{t}"))
    });
    let none_lamp = &t["devices"][s.lamps[0].to_string()];
    assert_eq!(none_lamp["provider"], "none");
    assert_eq!(none_lamp["name"], "Probe Lamp");
    assert_eq!(
        none_lamp["entities"]["Temperature"],
        json!(["Temperature(21.5)", "Sensor"])
    );
    assert!(t["errors"].as_array().is_some_and(Vec::is_empty), "{t}");
    // Live changes follow: a value, availability, removal.
    s.command("none", "probe.temperature", json!({"value": 23.0}));
    s.command("none", "probe.available", json!({"available": false}));
    wait_for(
        SHORT,
        "the reader sees the new value and availability",
        || {
            let d = &s.tree("reader")["devices"][s.lamps[0].to_string()];
            (d["entities"]["Temperature"] == json!(["Temperature(23.0)"])
                && d["available"] == false)
                .then_some(())
                .ok_or_else(|| format!("{d}"))
        },
    );
    s.command("none", "probe.remove", json!({}));
    wait_for(SHORT, "the reader sees the removal", || {
        let t = s.tree("reader");
        t["devices"]
            .get(s.lamps[0].to_string())
            .is_none()
            .then_some(())
            .ok_or_else(|| format!("{t}"))
    });
}

#[test]
fn change_requests_need_control_and_reach_the_owner_confirmed() {
    let s = Setup::start();
    let target = s.lamps[0];
    for provider in ["none", "reader"] {
        let r = s.request(provider, target, "Light", true);
        assert_eq!(r["code"], FORBIDDEN, "{provider}: {r}");
        assert!(
            r["message"]
                .as_str()
                .is_some_and(|m| m.contains("tree = \"control\"")),
            "{r}"
        );
    }
    assert_eq!(s.switch_of(target), Some(json!(false)));
    assert!(
        s.tree("none")["changes"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // Baseline: `control` may, and the owner receives it as a change request
    // and confirms it.
    assert_eq!(
        s.request("control", target, "Light", true),
        json!({"ok": true})
    );
    wait_for(SHORT, "the owner's confirmed Switch", || {
        (s.switch_of(target) == Some(json!(true)))
            .then_some(())
            .ok_or_else(|| "still off".to_string())
    });
    let changes = s.tree("none")["changes"].clone();
    assert_eq!(changes.as_array().map(Vec::len), Some(1), "{changes}");
    assert!(
        changes[0]
            .as_str()
            .is_some_and(|c| c.contains("Switch(true)")),
        "{changes}"
    );
}

#[test]
fn a_change_request_gets_the_same_checks_as_a_users() {
    let s = Setup::start();
    let target = s.lamps[0];
    let r = s.request("control", target, "Temperature", true);
    assert_eq!(r["code"], INVALID, "{r}");
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be changed")),
        "{r}"
    );
    let r = s.request("control", target, "Nothing", true);
    assert_eq!(r["code"], UNKNOWN_ENTITY, "{r}");
    s.command("none", "probe.available", json!({"available": false}));
    wait_for(SHORT, "the lamp offline", || {
        let d = s.core.api().device(target);
        (!d.available)
            .then_some(())
            .ok_or_else(|| "still online".to_string())
    });
    let r = s.request("control", target, "Light", true);
    assert_eq!(r["code"], UNAVAILABLE, "{r}");
    assert!(
        r["message"].as_str().is_some_and(|m| m.contains("offline")),
        "{r}"
    );
    assert!(
        s.tree("none")["changes"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    assert_eq!(s.switch_of(target), Some(json!(false)));
}

#[test]
fn control_does_not_make_a_provider_an_owner() {
    let s = Setup::start();
    let target = s.lamps[0];
    s.command("control", "probe.write_foreign", json!({"device": target}));
    let e = wait_for(
        SHORT,
        "NOT_OWNER for a write to another provider's device",
        || {
            let t = s.tree("control");
            t["errors"]
                .as_array()
                .and_then(|e| e.first().cloned())
                .ok_or_else(|| format!("{t}"))
        },
    );
    assert_eq!(e["code"], NOT_OWNER, "{e}");
    assert_eq!(s.switch_of(target), Some(json!(false)));
    // Baseline: the owner's own write is taken.
    s.command("none", "probe.temperature", json!({"value": 30.0}));
    wait_for(SHORT, "the owner's write", || {
        let d = s.core.api().device(target);
        (d.entities["Temperature"].components.get("Temperature") == Some(&json!(30.0)))
            .then_some(())
            .ok_or_else(|| "not yet".to_string())
    });
}

#[test]
fn only_the_owner_removes_an_entity_and_observers_see_it_go() {
    let s = Setup::start();
    let target = s.lamps[0];
    s.command("reader", "probe.observe", json!({}));
    let lamp_seen = |t: &Value| t["devices"][target.to_string()]["entities"].clone();
    wait_for(
        SHORT,
        "the reader's snapshot with the lamp's Temperature",
        || {
            let e = lamp_seen(&s.tree("reader"));
            e.get("Temperature")
                .map(|_| ())
                .ok_or_else(|| format!("{e}"))
        },
    );
    // Another provider, even with `control`, cannot remove the owner's entity.
    assert_eq!(
        s.command(
            "control",
            "probe.remove_foreign_entity",
            json!({"device": target})
        ),
        json!({"ok": true})
    );
    let e = wait_for(SHORT, "NOT_OWNER for a foreign RemoveEntity", || {
        let t = s.tree("control");
        t["errors"]
            .as_array()
            .and_then(|e| e.first().cloned())
            .ok_or_else(|| format!("{t}"))
    });
    assert_eq!(e["code"], NOT_OWNER, "{e}");
    let d = s.core.api().device(target);
    assert!(d.entities.contains_key("Temperature"), "{:?}", d.entities);
    // Baseline: the owner removes it; the device keeps its other entity and
    // its value, in the API and for observers.
    assert_eq!(
        s.command("none", "probe.remove_temperature", json!({})),
        json!({"ok": true})
    );
    wait_for(SHORT, "the Temperature entity gone from the API", || {
        let d = s.core.api().device(target);
        (!d.entities.contains_key("Temperature"))
            .then_some(())
            .ok_or_else(|| format!("{:?}", d.entities))
    });
    assert_eq!(s.switch_of(target), Some(json!(false)));
    assert!(s.core.api().device(target).available);
    wait_for(SHORT, "the reader sees the device without it", || {
        let e = lamp_seen(&s.tree("reader"));
        (e.get("Temperature").is_none() && e.get("Light").is_some())
            .then_some(())
            .ok_or_else(|| format!("{e}"))
    });
    assert!(
        s.tree("none")["errors"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}
