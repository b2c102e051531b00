//! The JSON shapes of the API and the event stream (`docs/api.md`), made
//! from the core's typed values (the tree's [`DeviceView`], the supervisor's
//! [`ProviderStatus`], the update service's [`OtaStatus`]). This is the only place that decides how they look on
//! the wire.

use igloo_protocol::{Component, Kind};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::grants::{PortState, Registry};
use crate::ota::history::{self as ota_history, Kind as RecordKind, Outcome, Record};
use crate::ota::{InstallProgress, OtaEvent, OtaStatus};
use crate::tree::{DeviceView, EntityView, RoomView};

use crate::supervisor::ProviderReport;
use crate::supervisor::status::{ConfigProblem, LastExit, ProcessExit, ProviderStatus};

/// `exit` in a provider object: how its last run ended, as fields.
#[derive(Serialize)]
struct ExitView<'a> {
    /// `exited`, `closed`, `protocol`, `handshake`, `hung`, `not_started`,
    /// `restart_requested`, `switching`, `core_shutdown`.
    cause: &'static str,
    detail: Option<&'a str>,
    /// The process's exit status code, when it exited.
    code: Option<i32>,
    /// The signal that ended the process, when one did.
    signal: Option<i32>,
    oom_kills: u64,
}

impl<'a> ExitView<'a> {
    fn new(e: &'a LastExit) -> ExitView<'a> {
        let (code, signal) = match e.process {
            Some(ProcessExit::Code(c)) => (Some(c), None),
            Some(ProcessExit::Signal(s)) => (None, Some(s)),
            None => (None, None),
        };
        ExitView {
            cause: e.cause.kind(),
            detail: e.cause.detail(),
            code,
            signal,
            oom_kills: e.oom_kills,
        }
    }
}

/// A provider object of `GET /api/v1/providers` and of `provider` events.
#[derive(Serialize)]
struct ProviderView<'a> {
    name: &'a str,
    exec: String,
    state: &'static str,
    pid: Option<u32>,
    restarts: u64,
    /// API v1 text of `exit` (kept for clients that read it).
    last_exit: Option<String>,
    exit: Option<ExitView<'a>>,
    config_error: Option<&'a ConfigProblem>,
    version: Option<&'a str>,
    protocol: Option<&'a str>,
    devices: usize,
    dropped_components: u64,
    uid: Option<u32>,
    sandbox: Option<&'a crate::sandbox::Layers>,
    spawn_to_hello_us: Option<u64>,
    installed_version: &'a str,
    versions: &'a [String],
    update: Option<&'a crate::supervisor::status::UpdateReport>,
    warnings: &'a [String],
}

impl<'a> ProviderView<'a> {
    fn new(s: &'a ProviderStatus, devices: usize, dropped: u64) -> ProviderView<'a> {
        let config_error = s
            .last_exit
            .as_ref()
            .and_then(|e| e.config.as_ref())
            .filter(|_| s.state == crate::supervisor::State::ConfigError);
        ProviderView {
            name: &s.name,
            exec: s.exec.display().to_string(),
            state: s.state.as_str(),
            pid: s.pid,
            restarts: s.restarts,
            last_exit: s.last_exit.as_ref().map(LastExit::to_string),
            exit: s.last_exit.as_ref().map(ExitView::new),
            config_error,
            version: s.version.as_deref(),
            protocol: s.protocol.as_deref(),
            devices,
            dropped_components: dropped,
            uid: s.uid,
            sandbox: s.sandbox.as_ref(),
            spawn_to_hello_us: s.spawn_to_hello_us,
            installed_version: &s.installed_version,
            versions: &s.versions,
            update: s.update.as_ref(),
            warnings: &s.warnings,
        }
    }
}

fn to_value(v: impl Serialize) -> Value {
    // Serializing these plain structs cannot fail; an empty object if it ever did.
    serde_json::to_value(v).unwrap_or_else(|_| json!({}))
}

/// A provider object of `GET /api/v1/providers`: its status, device count,
/// the counters beside it, its warnings plus `extra_warnings` (grant rules
/// matching no port), and its granted ports.
pub fn provider(
    r: &ProviderReport,
    devices: usize,
    extra_warnings: Vec<String>,
    grants: &[PortState],
) -> Value {
    let mut v = to_value(ProviderView::new(&r.status, devices, r.dropped_components));
    if !extra_warnings.is_empty()
        && let Some(w) = v.get_mut("warnings").and_then(Value::as_array_mut)
    {
        w.extend(extra_warnings.into_iter().map(Value::String));
    }
    v["grants"] = grants.iter().map(port).collect();
    v
}

/// The provider object of a `provider` event: `devices` is 0 and `grants`
/// absent there (`docs/api.md`).
pub fn provider_event(s: &ProviderStatus, dropped_components: u64) -> Value {
    to_value(ProviderView::new(s, 0, dropped_components))
}

/// `{"Name": value, …}` for a list of components (marker → `true`, colour →
/// `"#rrggbb"`, enum → variant name).
pub fn components(values: &[Component]) -> Value {
    let mut m = Map::with_capacity(values.len());
    for c in values {
        m.insert(c.name().to_string(), c.to_json());
    }
    Value::Object(m)
}

fn attributes(a: &[(String, String)]) -> Value {
    Value::Object(
        a.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// An entity: `{"attributes", "components", "units"}`; `units` has each
/// present component's unit from `components.toml`, or for `Number` the
/// entity's `unit` attribute.
pub fn entity(e: &EntityView) -> Value {
    let mut units = Map::new();
    for c in &e.components {
        let info = c.info();
        let unit = if info.kind == Kind::Float && info.name == "Number" {
            e.attribute("unit").or(info.unit)
        } else {
            info.unit
        };
        if let Some(u) = unit {
            units.insert(info.name.to_string(), Value::String(u.to_string()));
        }
    }
    json!({
        "attributes": attributes(&e.attributes),
        "components": components(&e.components),
        "units": units,
    })
}

/// A device object of `GET /api/v1/devices` and of `device` events.
pub fn device(d: &DeviceView) -> Value {
    let entities: Map<String, Value> = d
        .entities
        .iter()
        .map(|(n, e)| (n.to_string(), entity(e)))
        .collect();
    json!({
        "id": d.id.0,
        "provider": &*d.provider,
        "key": d.key,
        "name": d.name,
        "provider_name": d.provider_name,
        "room": d.room,
        "available": d.available,
        "status": d.status.as_str(),
        "unsupported": d.unsupported,
        "attributes": attributes(&d.attributes),
        "entities": entities,
    })
}

/// A room of `GET /api/v1/rooms` and of `rooms` events.
pub fn room(r: &RoomView) -> Value {
    json!({"id": r.id, "name": r.name})
}

/// All rooms, in the given order.
pub fn rooms(r: &[RoomView]) -> Value {
    Value::Array(r.iter().map(room).collect())
}

/// A serial port in `GET /api/v1/grants` and a provider's `grants`.
pub fn port(s: &PortState) -> Value {
    let usb = s.port.usb.as_ref().map(|u| {
        json!({
            "vid": format!("{:04x}", u.vid),
            "pid": format!("{:04x}", u.pid),
            "serial": u.serial,
            "manufacturer": u.manufacturer,
            "product": u.product,
        })
    });
    json!({
        "device": s.port.name,
        "devnode": s.port.devnode.display().to_string(),
        "devpath": s.port.devpath,
        "usb": usb,
        "known": s.known.map(|k| json!({"id": k.id, "name": k.name, "kind": k.kind.as_str()})),
        "provider": s.granted.as_ref().map(|(n, _)| n.clone()),
        "grant": s.granted.as_ref().map(|(_, g)| *g),
        "error": s.error,
    })
}

/// `GET /api/v1/grants`: how hot-plug is followed, every serial port by
/// devpath (with what the core recognises it as and who holds it), and per
/// provider its rules that match no port.
pub fn grants(r: &Registry) -> Value {
    let ports: Vec<Value> = r.ports().iter().map(port).collect();
    json!({"hotplug": r.hotplug(), "ports": ports, "unmatched": r.unmatched()})
}

/// An install in progress: `install` of `GET /api/v1/ota` and of `ota` events.
pub fn ota_install(p: &InstallProgress) -> Value {
    json!({
        "id": p.id,
        "source": p.source,
        "phase": p.phase.as_str(),
        "percent": p.percent,
        "step": p.step,
        "started_at_ms": p.started_at_ms,
    })
}

/// One sentence for a history record (`summary`).
fn ota_summary(r: &Record) -> String {
    let version = r.version.as_deref().unwrap_or("an unknown version");
    let slot = r.slot.as_deref().unwrap_or("?");
    let at = ota_history::utc_text(r.at_ms);
    let reason = r.reason.as_deref().unwrap_or("no reason given");
    let id = r.id.map(|i| format!(" {i}")).unwrap_or_default();
    let source = r.source.as_deref().unwrap_or("?");
    match (&r.kind, &r.result) {
        (RecordKind::Install, Some(Outcome::Installed)) => {
            format!("install{id} of {source} at {at}: {version} installed into slot {slot}")
        }
        (RecordKind::Install, _) => format!("install{id} of {source} failed at {at}: {reason}"),
        (RecordKind::Rollback, _) => format!("update to {version} failed at {at}: {reason}"),
        (RecordKind::HealthCheckFailed, _) => {
            format!("boot of slot {slot} ({version}) failed its health check at {at}: {reason}")
        }
        (RecordKind::Other(kind), result) => format!(
            "{kind} at {at}: {}",
            result.as_ref().map_or("?", Outcome::as_str)
        ),
    }
}

/// A history record (`history` of `GET /api/v1/ota`, `finished` of `ota` events).
pub fn ota_record(r: &Record) -> Value {
    json!({
        "kind": r.kind.as_str(),
        "id": r.id,
        "at_ms": r.at_ms,
        "at": ota_history::utc_text(r.at_ms),
        "started_at_ms": r.started_at_ms,
        "source": r.source,
        "result": r.result.as_ref().map(Outcome::as_str),
        "reason": r.reason,
        "version": r.version,
        "slot": r.slot,
        "installed": r.installed,
        "summary": ota_summary(r),
    })
}

/// `GET /api/v1/ota`.
pub fn ota(s: &OtaStatus) -> Value {
    let slots: Vec<Value> = s
        .slots
        .iter()
        .map(|r| {
            json!({
                "name": r.slot.name,
                "bootname": r.slot.bootname,
                "device": r.slot.device,
                "state": r.slot.state,
                "boot_status": r.slot.boot_status,
                "booted": r.booted,
                "primary": r.primary,
                "version": r.slot.bundle_version,
                "installed": r.slot.installed,
                "install_status": r.slot.install_status,
                "tries_left": r.tries_left,
            })
        })
        .collect();
    json!({
        "available": s.unavailable.is_none(),
        "unavailable_reason": s.unavailable,
        "compatible": s.compatible,
        "booted": s.booted,
        "boot_order": s.boot_order,
        "slots": slots,
        "pending_mark_good": s.pending_mark_good,
        "health": {
            "state": s.health.state.as_str(),
            "detail": s.health.detail,
            "health_check_ms": s.health.health_check_ms,
        },
        "health_check_ms": s.health.health_check_ms,
        "install": s.install.as_ref().map(ota_install),
        "history": s.history.iter().map(ota_record).collect::<Vec<_>>(),
        "errors": s.errors,
    })
}

/// The payload of an `ota` event: `install` (progress) or `finished` (the record).
pub fn ota_event(e: &OtaEvent) -> Value {
    match e {
        OtaEvent::Progress(p) => json!({"type": "ota", "install": ota_install(p)}),
        OtaEvent::Finished(r) => json!({"type": "ota", "finished": ota_record(r)}),
    }
}

/// The clock's state for `GET /api/v1/health`: `{"synchronized": bool,
/// "maxerror_us": n, "esterror_us": n}`, or `{"synchronized": false,
/// "error": "…"}` when the kernel could not be asked.
pub fn time(status: std::io::Result<crate::clock::TimeStatus>) -> Value {
    match status {
        Ok(t) => json!({
            "synchronized": t.synchronized,
            "maxerror_us": t.maxerror_us,
            "esterror_us": t.esterror_us,
        }),
        Err(e) => json!({"synchronized": false, "error": format!("adjtimex: {e}")}),
    }
}

/// `GET /api/v1/wifi`: `{"managed": true, "configured", "file": "absent" |
/// "igloo" | "other", "ssid" (text, or null when none or not UTF-8),
/// "ssid_hex", "country", "security": "wpa-psk" | "open" | null,
/// "interface", "link": {"present", "operstate", "addresses"}}`, plus
/// `"file_problem"` for a file in another shape. Never the key.
pub fn wifi(s: &crate::wifi::Status) -> Value {
    use crate::wifi::FileState;
    let summary = s.file.summary();
    let ssid = summary.and_then(|f| f.ssid.as_ref());
    let mut out = json!({
        "managed": true,
        "configured": ssid.is_some(),
        "file": match &s.file {
            FileState::Absent => "absent",
            FileState::Igloo(_) => "igloo",
            FileState::Other { .. } => "other",
        },
        "ssid": ssid.and_then(|n| n.as_text()),
        "ssid_hex": ssid.map(|n| n.to_hex()),
        "country": summary.and_then(|f| f.country).map(|c| c.to_string()),
        "security": summary.and_then(|f| f.security).map(|x| x.name()),
        "interface": s.interface,
        "link": {
            "present": s.link.present,
            "operstate": s.link.operstate,
            "addresses": s.link.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
    });
    if let FileState::Other { why, .. } = &s.file {
        out["file_problem"] = json!(why.to_string());
    }
    out
}

/// The answer to `PUT`/`DELETE /api/v1/wifi`: [`wifi`] plus `"reloaded"`
/// (whether wpa_supplicant got SIGHUP), `"reload_detail"` (why not, else
/// null) and, for `DELETE`, `"removed"`.
pub fn wifi_change(c: &crate::wifi::Change) -> Value {
    let mut out = wifi(&c.status);
    out["reloaded"] = json!(c.reloaded);
    out["reload_detail"] = json!(c.reload_detail);
    if let Some(removed) = c.removed {
        out["removed"] = json!(removed);
    }
    out
}
