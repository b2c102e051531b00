//! Rooms and the owner's device names (docs/api.md, "Rooms"), against the
//! real core and a real provider process: they are persisted, survive a
//! provider restart (the provider reports its own name again) and a core
//! restart, are announced on the event stream, and bad requests get a clear
//! error and change nothing. Also the in-memory history of numeric values.

use igloo_tests::harness::api::Device;
use igloo_tests::{Core, ProviderSpec, TIMEOUT, providers_toml, wait_for};
use serde_json::{Value, json};

fn good_core() -> Core {
    Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]))
}

fn counter(core: &Core) -> Device {
    core.api().wait_device_by_key("good-1")
}

fn create_room(core: &Core, name: &str) -> u64 {
    let (status, body) = core
        .api()
        .post("/api/v1/rooms", &json!({"name": name}))
        .expect("create a room");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], name.trim());
    body["id"].as_u64().expect("an id")
}

fn rooms(core: &Core) -> Vec<Value> {
    core.api().get_ok::<Vec<Value>>("/api/v1/rooms")
}

#[test]
fn rooms_and_device_names_survive_provider_and_core_restarts() {
    let mut core = good_core();
    let device = counter(&core);
    let provider_name = device.name.clone();
    assert_eq!(
        device.provider_name.as_deref(),
        Some(provider_name.as_str())
    );
    assert_eq!(device.room, None);
    let path = format!("/api/v1/devices/{}", device.id);

    let mut events = core.events();
    let kitchen = create_room(&core, "Kitchen");
    events.wait_event(TIMEOUT, "rooms with the kitchen", |e| {
        e["type"] == "rooms" && e["rooms"].as_array().is_some_and(|r| r.len() == 1)
    });
    let hall = create_room(&core, "  Hall ");
    let listed = rooms(&core);
    let listed_names: Vec<&str> = listed.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        listed_names,
        ["Hall", "Kitchen"],
        "trimmed, ordered by name"
    );

    let (status, body) = core
        .api()
        .send_json(
            "PATCH",
            &path,
            &json!({"name": "Counter on the wall", "room": kitchen}),
        )
        .expect("edit");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Counter on the wall");
    assert_eq!(body["provider_name"], provider_name.as_str());
    assert_eq!(body["room"], kitchen);
    events.wait_event(TIMEOUT, "the renamed device", |e| {
        e["type"] == "device" && e["device"]["name"] == "Counter on the wall"
    });

    // The provider reports its device (and its own name) again after a restart.
    let pid = core.wait_provider_running("good", TIMEOUT);
    let (status, body) = core.api().restart_provider("good");
    assert_eq!(status, 202, "{body}");
    wait_for(TIMEOUT, "the provider to run again", || {
        let p = core.api().try_provider("good")?;
        (p.state == "running" && p.pid.is_some_and(|p| p != pid))
            .then_some(())
            .ok_or_else(|| format!("{p:?}"))
    });
    let again = counter(&core);
    assert_eq!(again.name, "Counter on the wall");
    assert_eq!(again.room, Some(kitchen));

    core.restart();
    let after = counter(&core);
    assert_eq!(after.id, device.id);
    assert_eq!(after.name, "Counter on the wall");
    assert_eq!(after.room, Some(kitchen));
    assert_eq!(rooms(&core).len(), 2, "{:?}", rooms(&core));

    // Renaming a room keeps its devices; deleting it leaves them in no room.
    let (status, body) = core
        .api()
        .send_json(
            "PATCH",
            &format!("/api/v1/rooms/{kitchen}"),
            &json!({"name": "Kitchen & pantry"}),
        )
        .expect("rename");
    assert_eq!(status, 200, "{body}");
    assert_eq!(counter(&core).room, Some(kitchen));
    let (status, body) = core
        .api()
        .send_json("DELETE", &format!("/api/v1/rooms/{kitchen}"), &json!({}))
        .expect("delete");
    assert_eq!(status, 200, "{body}");
    assert_eq!(counter(&core).room, None);
    core.restart();
    let after = counter(&core);
    assert_eq!(after.room, None, "the deletion survives a restart");
    assert_eq!(after.name, "Counter on the wall");
    let left: Vec<u64> = rooms(&core)
        .iter()
        .filter_map(|r| r["id"].as_u64())
        .collect();
    assert_eq!(left, [hall]);

    // null: back to the provider's name.
    let (status, body) = core
        .api()
        .send_json("PATCH", &path, &json!({"name": null}))
        .expect("reset");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], provider_name.as_str());
}

#[test]
fn bad_room_and_device_edits_are_refused_and_change_nothing() {
    let core = good_core();
    let device = counter(&core);
    let path = format!("/api/v1/devices/{}", device.id);
    let kitchen = create_room(&core, "Kitchen");
    let api = core.api();
    let cases: [(&str, String, Value, u16, &str); 9] = [
        (
            "POST",
            "/api/v1/rooms".into(),
            json!({"name": "kitchen"}),
            409,
            "exists",
        ),
        (
            "POST",
            "/api/v1/rooms".into(),
            json!({"name": "  "}),
            400,
            "empty",
        ),
        (
            "POST",
            "/api/v1/rooms".into(),
            json!({"name": "x".repeat(65)}),
            400,
            "64",
        ),
        ("POST", "/api/v1/rooms".into(), json!({}), 400, "name"),
        (
            "PATCH",
            "/api/v1/rooms/999".into(),
            json!({"name": "Attic"}),
            404,
            "room 999",
        ),
        ("PATCH", path.clone(), json!({"room": 999}), 404, "room 999"),
        (
            "PATCH",
            path.clone(),
            json!({"colour": "red"}),
            400,
            "colour",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"name": "a\nb"}),
            400,
            "control",
        ),
        (
            "PATCH",
            "/api/v1/devices/424242".into(),
            json!({"room": kitchen}),
            404,
            "424242",
        ),
    ];
    for (method, path, body, want, says) in cases {
        let (status, reply) = api.send_json(method, &path, &body).expect("request");
        assert_eq!(status, want, "{method} {path} {body}: {reply}");
        let error = reply["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{method} {path} {body}: {error:?}");
    }
    // The baseline: a good edit works, and nothing above changed anything.
    let (status, body) = api
        .send_json("PATCH", &path, &json!({"room": kitchen}))
        .expect("edit");
    assert_eq!(status, 200, "{body}");
    let now = counter(&core);
    assert_eq!(now.name, device.name);
    assert_eq!(now.room, Some(kitchen));
    assert_eq!(rooms(&core).len(), 1);
}

#[test]
fn history_keeps_recent_numeric_values_in_memory() {
    let core = good_core();
    let device = counter(&core);
    let id = device.id.to_string();
    let points = wait_for(TIMEOUT, "a Counter point in the history", || {
        let h: Value = core.api().try_get_ok("/api/v1/history")?;
        h[&id]["Counter"]["Number"]
            .as_array()
            .filter(|p| !p.is_empty())
            .cloned()
            .ok_or_else(|| format!("{h}"))
    });
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as f64;
    for p in &points {
        let (t, v) = (p[0].as_f64().expect("time"), p[1].as_f64().expect("value"));
        assert!((now_ms - t).abs() < 120_000.0, "{p} vs now {now_ms}");
        assert!(v >= 1.0, "the counter counts from 1: {p}");
    }
    // The provider writes every 50 ms: points 10 s apart, the last one replaced.
    assert!(points.len() <= 2, "{points:?}");
    let later = wait_for(TIMEOUT, "the last point to move on", || {
        let h: Value = core.api().try_get_ok("/api/v1/history")?;
        let last = h[&id]["Counter"]["Number"]
            .as_array()
            .and_then(|p| p.last())
            .and_then(|p| p[1].as_f64())
            .unwrap_or(0.0);
        let first_last = points.last().and_then(|p| p[1].as_f64()).unwrap_or(0.0);
        (last > first_last)
            .then_some(last)
            .ok_or("not yet".to_string())
    });
    assert!(later > 1.0);
}

#[test]
fn the_cli_adds_rooms_renames_and_moves_devices() {
    let core = good_core();
    let device = counter(&core);
    let id = device.id.to_string();
    let ok = |args: &[&str]| {
        let out = core.cli(args);
        assert_eq!(
            out.code,
            Some(0),
            "{}: {}{}",
            out.command,
            out.stdout,
            out.stderr
        );
        out.stdout
    };
    assert!(ok(&["rooms", "add", "Garage"]).contains("Garage"));
    assert!(ok(&["move", &id, "garage"]).contains("moved"));
    assert!(ok(&["rename", &id, "Counter in the garage"]).contains("Counter in the garage"));
    let listing = ok(&["rooms"]);
    assert!(
        listing
            .lines()
            .any(|l| l.contains("Garage") && l.trim_end().ends_with('1')),
        "{listing}"
    );
    let now = counter(&core);
    assert_eq!(now.name, "Counter in the garage");
    assert!(now.room.is_some());
    // A room that does not exist: a clear error, nothing changed.
    let out = core.cli(&["move", &id, "Attic"]);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("no room named \"Attic\""),
        "{}",
        out.stderr
    );
    assert_eq!(counter(&core).room, now.room);
    ok(&["rooms", "remove", "Garage"]);
    ok(&["rename", &id, "--reset"]);
    let after = counter(&core);
    assert_eq!(
        (after.name.as_str(), after.room),
        (device.name.as_str(), None)
    );
}
