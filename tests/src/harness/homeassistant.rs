//! A real Home Assistant Core (`hass`, installed from PyPI by
//! `scripts/lib.sh ensure_ha_venv` with `tests/homeassistant/requirements.txt`)
//! on a free loopback port, with its MQTT integration pointed at a test
//! broker: the receiving side of Igloo's discovery out (docs/mqtt.md).
//!
//! Set up the way an owner does it, through Home Assistant's own HTTP API:
//! onboarding creates the owner account and gives an authorization code,
//! `/auth/token` turns it into an access token, and the MQTT integration is
//! added through its config flow (`/api/config/config_entries/flow`, handler
//! `mqtt`, step `broker`). Then the REST API (`/api/states`,
//! `/api/services/<domain>/<service>`, `/api/template`) is what the tests read
//! and call. Home Assistant runs with `--skip-pip` (everything it loads is in
//! the venv) and its configuration directory is a private temporary one.
//!
//! The venvs: `$IGLOO_HA_VENV`, else `<target>/ha-venv` (Home Assistant
//! 2024.3.3 on Debian's Python 3.11); `$IGLOO_HA2025_VENV` (2025.4.4 on a
//! Python 3.13, for device-based discovery; [`venv_2025`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::api::Api;
use super::bins::target_dir;
use super::logfile::LogFile;
use super::ports::free_port;
use super::wait::wait_for;

/// How long Home Assistant may take to answer its API after starting (the
/// first start compiles nothing, but loads ~40 integrations).
const START: Duration = Duration::from_secs(180);

/// The client id of the test's OAuth2 exchange: Home Assistant accepts any
/// URL that is the client's own origin (its IndieAuth rule).
const CLIENT_ID: &str = "http://127.0.0.1/";

/// A running Home Assistant Core; killed on drop.
pub struct HomeAssistant {
    child: Child,
    api: Api,
    log: LogFile,
    dir: TempDir,
}

/// The venv Home Assistant is installed in.
pub fn venv() -> PathBuf {
    std::env::var_os("IGLOO_HA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("ha-venv"))
}

/// The venv with Home Assistant 2025.4.4 for the test `test`:
/// `$IGLOO_HA2025_VENV` (scripts/test sets it when the machine has a Python
/// 3.13 to make it with), else `<target>/ha-2025-venv` when it holds a
/// Home Assistant; `None` (after saying that `test` is skipped) when there
/// is neither.
///
/// # Panics
/// If `$IGLOO_HA2025_VENV` is set but holds no `hass`.
pub fn venv_2025(test: &str) -> Option<PathBuf> {
    if let Some(venv) = std::env::var_os("IGLOO_HA2025_VENV").filter(|v| !v.is_empty()) {
        let venv = PathBuf::from(venv);
        assert!(
            venv.join("bin/hass").is_file(),
            "IGLOO_HA2025_VENV={} holds no Home Assistant: run scripts/test, or \
             `. scripts/lib.sh; ensure_ha2025_venv . target/ha-2025-venv \"$(find_python313)\"`",
            venv.display()
        );
        return Some(venv);
    }
    let built = target_dir().join("ha-2025-venv");
    if built.join("bin/hass").is_file() {
        return Some(built);
    }
    eprintln!(
        "skipped: {test} needs Home Assistant 2025.4.4 on a Python 3.13 \
         (IGLOO_HA2025_VENV, set by scripts/test when the machine has one)"
    );
    None
}

impl HomeAssistant {
    /// Starts Home Assistant from [`venv`], onboards its owner and adds the
    /// MQTT integration for the broker on 127.0.0.1:`mqtt_port` (no login).
    ///
    /// # Panics
    /// If the venv is missing (saying how to make it), Home Assistant does
    /// not answer within [`START`] or a setup step fails, with its log's tail.
    pub fn start(mqtt_port: u16) -> HomeAssistant {
        HomeAssistant::start_in(&venv(), mqtt_port)
    }

    /// [`HomeAssistant::start`] from the Home Assistant installed in `venv`.
    ///
    /// # Panics
    /// As [`HomeAssistant::start`].
    pub fn start_in(venv: &Path, mqtt_port: u16) -> HomeAssistant {
        let hass = venv.join("bin/hass");
        assert!(
            hass.is_file(),
            "no Home Assistant at {}: run scripts/test, or `. scripts/lib.sh; ensure_ha_venv . target/ha-venv`",
            hass.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("igloo-ha-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        let port = free_port();
        let config = format!(
            "homeassistant:\n  name: Igloo test\n  latitude: 52.37\n  longitude: 4.89\n  elevation: 0\n  \
             unit_system: metric\n  time_zone: UTC\n  currency: EUR\n  country: NL\n\
             http:\n  server_host: 127.0.0.1\n  server_port: {port}\n\
             api:\nconfig:\nonboarding:\n\
             logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: debug\n"
        );
        let yaml = dir.path().join("configuration.yaml");
        std::fs::write(&yaml, config).unwrap_or_else(|e| panic!("{}: {e}", yaml.display()));
        let log = LogFile::new(dir.path().join("hass.out"));
        let out = std::fs::File::create(log.path())
            .unwrap_or_else(|e| panic!("{}: {e}", log.path().display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let child = Command::new(&hass)
            .arg("--skip-pip")
            .arg("-c")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", hass.display()));
        let mut ha = HomeAssistant {
            child,
            api: Api::new(format!("http://127.0.0.1:{port}")).with_timeout(Duration::from_secs(30)),
            log,
            dir,
        };
        ha.wait_api();
        let token = ha.onboard();
        ha.api = ha.api.with_token(Some(&token));
        ha.add_mqtt(mqtt_port);
        ha
    }

    /// Waits until the onboarding route answers (the HTTP server is up and
    /// onboarding loaded).
    fn wait_api(&mut self) {
        let api = self.api.clone();
        let log = self.log.clone();
        let child = &mut self.child;
        wait_for(START, "Home Assistant's API", || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("hass exited ({status}); its log:\n{}", log.tail(40));
            }
            match api.get("/api/onboarding") {
                Ok((200, body)) => Ok(body),
                Ok((code, body)) => Err(format!("{code} {body}")),
                Err(e) => Err(e),
            }
        });
    }

    /// Creates the owner account; returns an access token.
    fn onboard(&self) -> String {
        let (code, body) = self
            .api
            .post(
                "/api/onboarding/users",
                &json!({
                    "client_id": CLIENT_ID,
                    "name": "Owner",
                    "username": "owner",
                    "password": "igloo-test-owner-password",
                    "language": "en",
                }),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "onboarding: {body}; log:\n{}", self.log.tail(20));
        let auth_code = body["auth_code"]
            .as_str()
            .unwrap_or_else(|| panic!("no auth_code in {body}"));
        let form = format!(
            "grant_type=authorization_code&code={auth_code}&client_id={}",
            super::api::encode_segment(CLIENT_ID)
        );
        let reply = self
            .api
            .request(
                "POST",
                "/auth/token",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                Some(form.as_bytes()),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.status, 200, "token: {}", reply.body);
        reply.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {}", reply.body))
            .to_string()
    }

    /// Adds the MQTT integration through its config flow.
    fn add_mqtt(&self, mqtt_port: u16) {
        let (code, flow) = self
            .api
            .post(
                "/api/config/config_entries/flow",
                &json!({"handler": "mqtt", "show_advanced_options": false}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "MQTT config flow: {flow}");
        assert_eq!(flow["step_id"], "broker", "{flow}");
        let id = flow["flow_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no flow_id in {flow}"));
        let (code, done) = self
            .api
            .post(
                &format!("/api/config/config_entries/flow/{id}"),
                &json!({"broker": "127.0.0.1", "port": mqtt_port}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "MQTT broker step: {done}");
        assert_eq!(done["type"], "create_entry", "{done}");
        assert_eq!(done["result"]["state"], "loaded", "{done}");
    }

    /// Home Assistant's version (`version` of `GET /api/config`).
    pub fn version(&self) -> String {
        let (code, body) = self
            .api
            .get("/api/config")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "{body}");
        body["version"].as_str().unwrap_or_default().to_string()
    }

    /// The authenticated REST client (`/api/...`).
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Home Assistant's own log (`home-assistant.log` in its config dir)
    /// and its stdout/stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let own = LogFile::new(self.dir.path().join("home-assistant.log"));
        format!("{}\n{}", own.tail(lines), self.log.tail(lines))
    }

    /// Every entity's state object (`GET /api/states`).
    pub fn states(&self) -> Vec<Value> {
        let (code, body) = self
            .api
            .get("/api/states")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "{body}");
        body.as_array().cloned().unwrap_or_default()
    }

    /// The state object of the entity of `domain` (`light`, `fan`…) whose
    /// friendly name starts with `name` (Home Assistant names an entity
    /// "<device name> <entity name>").
    ///
    /// # Errors
    /// Every entity id and friendly name it has, and the tail of its log.
    pub fn find_entity(&self, domain: &str, name: &str) -> Result<Value, String> {
        let states = self.states();
        let prefix = format!("{domain}.");
        states
            .iter()
            .find(|s| {
                s["entity_id"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(&prefix))
                    && s["attributes"]["friendly_name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(name))
            })
            .cloned()
            .ok_or_else(|| {
                let seen: Vec<_> = states
                    .iter()
                    .map(|s| format!("{} {:?}", s["entity_id"], s["attributes"]["friendly_name"]))
                    .collect();
                format!(
                    "no {domain} named {name:?}… among {seen:?}; Home Assistant's log:\n{}",
                    self.log_tail(15)
                )
            })
    }

    /// One entity's state object, if it exists.
    pub fn state(&self, entity_id: &str) -> Option<Value> {
        match self.api.get(&format!("/api/states/{entity_id}")) {
            Ok((200, body)) => Some(body),
            Ok((404, _)) => None,
            Ok((code, body)) => panic!("GET /api/states/{entity_id}: {code} {body}"),
            Err(e) => panic!("{e}"),
        }
    }

    /// Waits until `entity_id`'s state object satisfies `ok`; returns it.
    ///
    /// # Panics
    /// On timeout, with the last state and the log's tail.
    pub fn wait_state(
        &self,
        entity_id: &str,
        timeout: Duration,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_for(
            timeout,
            format!("Home Assistant's {entity_id}"),
            || match self.state(entity_id) {
                Some(s) if ok(&s) => Ok(s),
                other => Err(format!("{other:?}")),
            },
        )
    }

    /// Calls a service (`POST /api/services/<domain>/<service>`).
    pub fn call(&self, domain: &str, service: &str, data: &Value) -> (u16, Value) {
        self.api
            .post(&format!("/api/services/{domain}/{service}"), data)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Renders a template in Home Assistant (`POST /api/template`), e.g.
    /// `{{ device_attr('light.lamp', 'manufacturer') }}`.
    pub fn template(&self, template: &str) -> String {
        let (code, body) = self
            .api
            .post("/api/template", &json!({"template": template}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, 200, "{template}: {body}");
        match body {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

impl Drop for HomeAssistant {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
