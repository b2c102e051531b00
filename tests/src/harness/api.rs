//! A blocking client of the core's HTTP API (`docs/api.md`), with typed views
//! of its documented objects. Decoding is strict on documented fields: a body
//! that does not match the documentation fails the test with the body shown.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A device (`GET /api/v1/devices/{id}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Device {
    /// Persistent id.
    pub id: u64,
    /// Owning provider's name.
    pub provider: String,
    /// The provider's stable key (IEEE address, MAC…).
    pub key: String,
    /// Display name: the owner's, else the provider's.
    pub name: String,
    /// The name the provider gave (absent before rooms, API 0.2).
    #[serde(default)]
    pub provider_name: Option<String>,
    /// The owner's room for it.
    #[serde(default)]
    pub room: Option<u64>,
    /// Reachable.
    pub available: bool,
    /// Metadata (model, manufacturer…).
    pub attributes: Map<String, Value>,
    /// Entities by name.
    pub entities: BTreeMap<String, Entity>,
}

/// An entity of a [`Device`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Entity {
    /// Metadata (unit, options…).
    pub attributes: Map<String, Value>,
    /// Component values by component name.
    pub components: Map<String, Value>,
    /// Unit of each present component that has one.
    pub units: BTreeMap<String, String>,
}

/// A supervised provider (`GET /api/v1/providers`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Provider {
    /// Configured name.
    pub name: String,
    /// Executable.
    pub exec: String,
    /// `starting` | `running` | `backoff` | `waiting_for_device` | `stopped`.
    pub state: String,
    /// Process id while it runs.
    pub pid: Option<u32>,
    /// Restarts so far.
    pub restarts: u64,
    /// Why it last exited.
    pub last_exit: Option<String>,
    /// Version from its Hello.
    pub version: Option<String>,
    /// Protocol version from its Hello.
    pub protocol: Option<String>,
    /// Devices it owns.
    pub devices: u64,
    /// Components dropped by negotiation.
    pub dropped_components: u64,
    /// Last error it caused.
    pub last_error: Option<String>,
    /// The uid it runs as, when the sandbox switches ids.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Confinement layers (`docs/api.md`), once started.
    #[serde(default)]
    pub sandbox: Option<Value>,
    /// Devices granted to it.
    #[serde(default)]
    pub grants: Vec<Value>,
    /// Label of the version that runs (`configured` = the config's exec).
    #[serde(default)]
    pub installed_version: Option<String>,
    /// Labels installed side by side under `versions_dir`.
    #[serde(default)]
    pub versions: Vec<String>,
    /// The last update: `state` (`trial` | `kept` | `rolled_back`), `from`, `to`, `reason`, `failures`.
    #[serde(default)]
    pub update: Option<Value>,
    /// How the last run ended, as fields: `cause`, `detail`, `code`, `signal`, `oom_kills`.
    #[serde(default)]
    pub exit: Option<Value>,
    /// In state `config_error`: `message`, `key`, `file`, `line`.
    #[serde(default)]
    pub config_error: Option<Value>,
    /// Problems that do not stop it (config warnings, grant rules matching no port).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Device {
    /// The entity called `name`.
    ///
    /// # Panics
    /// If there is none, listing the entities there are.
    pub fn entity(&self, name: &str) -> &Entity {
        self.entities.get(name).unwrap_or_else(|| {
            panic!(
                "device {} ({:?}, key {}) has no entity {name:?}; it has {:?}",
                self.id,
                self.name,
                self.key,
                self.entities.keys().collect::<Vec<_>>()
            )
        })
    }

    /// The value of component `component` on entity `entity`, if both exist.
    pub fn value(&self, entity: &str, component: &str) -> Option<&Value> {
        self.entities.get(entity)?.components.get(component)
    }

    /// Numeric value of a component, if present and numeric.
    pub fn number(&self, entity: &str, component: &str) -> Option<f64> {
        self.value(entity, component)?.as_f64()
    }
    /// `Ok` if `entity`.`component` equals `want` (numbers within 0.01), else
    /// what it is instead: for [`crate::wait_for`] loops.
    ///
    /// # Errors
    /// The component is missing or has another value.
    pub fn has(&self, entity: &str, component: &str, want: &Value) -> Result<(), String> {
        let got = self
            .value(entity, component)
            .ok_or_else(|| format!("{entity}.{component} missing"))?;
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => (g - w).abs() < 0.01,
            _ => got == want,
        };
        if same {
            Ok(())
        } else {
            Err(format!("{entity}.{component} is {got}, expected {want}"))
        }
    }
}

impl Entity {
    /// The value of `component`.
    ///
    /// # Panics
    /// If absent, listing the components there are.
    pub fn component(&self, component: &str) -> &Value {
        self.components.get(component).unwrap_or_else(|| {
            panic!(
                "entity has no component {component:?}; it has {:?}",
                self.components
            )
        })
    }

    /// The unit listed for `component`, if any.
    pub fn unit(&self, component: &str) -> Option<&str> {
        self.units.get(component).map(String::as_str)
    }
}

/// The API client. With a token ([`Api::with_token`]) every request carries
/// `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct Api {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// A whole answer: status, body (JSON, or a JSON string if not JSON) and
/// headers (names lower-case).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// Response headers, in order.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish()
    }
}

impl Api {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:8080`); each
    /// request may take 5 s.
    pub fn new(base: impl Into<String>) -> Api {
        Api {
            base: base.into(),
            agent: Api::agent(Duration::from_secs(5)),
            token: None,
        }
    }

    /// The same client with requests that may take up to `limit`: for an
    /// Argon2id hash (onboarding, login) on an emulated CPU that other
    /// guests share.
    pub fn with_timeout(&self, limit: Duration) -> Api {
        Api {
            agent: Api::agent(limit),
            ..self.clone()
        }
    }

    fn agent(limit: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(limit))
            .build()
            .into()
    }

    /// The same client sending `token` as its bearer credential (`None`: none).
    pub fn with_token(&self, token: Option<&str>) -> Api {
        Api {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    /// The bearer token it sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn auth<B>(&self, r: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => r.header("Authorization", format!("Bearer {t}")),
            None => r,
        }
    }

    /// Any request: `method path` with extra `headers` and an optional
    /// body (sent as given; set `Content-Type` in `headers`).
    ///
    /// # Errors
    /// A transport error, described.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.base);
        let what = format!("{method} {url}");
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = match body {
            Some(b) => {
                let r = req.body(b.to_vec()).map_err(|e| format!("{what}: {e}"))?;
                self.agent.run(r)
            }
            None => {
                let r = req.body(()).map_err(|e| format!("{what}: {e}"))?;
                self.agent.run(r)
            }
        }
        .map_err(|e| format!("{what}: {e}"))?;
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        // An event stream never ends: its status and headers are the answer.
        let streaming = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let (status, body) = if streaming {
            (resp.status().as_u16(), Value::Null)
        } else {
            read(resp, &what)?
        };
        Ok(Reply {
            status,
            body,
            headers,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path` → (status, body as JSON or as a JSON string if not JSON).
    ///
    /// # Errors
    /// A transport error (connection refused, timeout), described.
    pub fn get(&self, path: &str) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .auth(self.agent.get(&url))
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        read(resp, &format!("GET {url}"))
    }

    /// `POST path` with a JSON body → (status, body).
    ///
    /// # Errors
    /// A transport error, described.
    pub fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .auth(self.agent.post(&url))
            .send_json(body)
            .map_err(|e| format!("POST {url}: {e}"))?;
        read(resp, &format!("POST {url}"))
    }

    /// `method path` with a JSON body (PATCH, DELETE…) → (status, body).
    ///
    /// # Errors
    /// A transport error, described.
    pub fn send_json(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(u16, Value), String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let r = self.request(
            method,
            path,
            &[("Content-Type", "application/json")],
            Some(&bytes),
        )?;
        Ok((r.status, r.body))
    }

    /// `POST path` with `body` as `content_type` → (status, body).
    ///
    /// # Errors
    /// A transport error, described.
    pub fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .auth(self.agent.post(&url))
            .header("Content-Type", content_type)
            .send(body)
            .map_err(|e| format!("POST {url}: {e}"))?;
        read(resp, &format!("POST {url}"))
    }

    /// `GET path`, expecting 200 and a body of type `T`.
    ///
    /// # Panics
    /// On any other outcome, saying what came instead.
    pub fn get_ok<T: DeserializeOwned>(&self, path: &str) -> T {
        match self.try_get_ok(path) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`Api::get_ok`] without panicking.
    ///
    /// # Errors
    /// What came instead of a 200 with a `T`.
    pub fn try_get_ok<T: DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        let (status, body) = self.get(path)?;
        if status != 200 {
            return Err(format!("GET {path}: expected 200, got {status}: {body}"));
        }
        serde_json::from_value(body.clone())
            .map_err(|e| format!("GET {path}: body does not match docs/api.md ({e}): {body}"))
    }

    /// `GET /api/v1/health` answered 200.
    ///
    /// # Errors
    /// What came instead.
    pub fn health(&self) -> Result<Value, String> {
        self.try_get_ok("/api/v1/health")
    }

    /// All devices.
    pub fn devices(&self) -> Vec<Device> {
        self.get_ok("/api/v1/devices")
    }

    /// All devices, without panicking.
    ///
    /// # Errors
    /// What came instead.
    pub fn try_devices(&self) -> Result<Vec<Device>, String> {
        self.try_get_ok("/api/v1/devices")
    }

    /// One device.
    pub fn device(&self, id: u64) -> Device {
        self.get_ok(&format!("/api/v1/devices/{id}"))
    }

    /// The device with provider key `key`, if listed.
    pub fn device_by_key(&self, key: &str) -> Option<Device> {
        self.devices().into_iter().find(|d| d.key == key)
    }

    /// Waits until a device with each of `keys` is listed (available or
    /// not); their ids by key.
    ///
    /// # Panics
    /// On timeout, with the keys and names that were listed.
    pub fn wait_device_ids(&self, keys: &[&str]) -> std::collections::BTreeMap<String, u64> {
        crate::wait_for(
            crate::TIMEOUT,
            format!("devices with keys {keys:?}"),
            || {
                let devices = self.try_devices()?;
                let ids: std::collections::BTreeMap<String, u64> = devices
                    .iter()
                    .filter(|d| keys.contains(&d.key.as_str()))
                    .map(|d| (d.key.clone(), d.id))
                    .collect();
                if ids.len() == keys.len() {
                    Ok(ids)
                } else {
                    Err(format!(
                        "devices listed: {:?}",
                        devices
                            .iter()
                            .map(|d| (&d.key, &d.name))
                            .collect::<Vec<_>>()
                    ))
                }
            },
        )
    }

    /// Waits (up to [`TIMEOUT`](crate::TIMEOUT)) until the device with
    /// provider key `key` is listed and available, and returns it.
    ///
    /// # Panics
    /// On timeout, with what was listed.
    pub fn wait_device_by_key(&self, key: &str) -> Device {
        crate::wait_for(
            crate::TIMEOUT,
            format!("device {key} listed and available"),
            || {
                let all = self.try_devices()?;
                all.iter()
                    .find(|d| d.key == key && d.available)
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "listed: {:?}",
                            all.iter().map(|d| &d.key).collect::<Vec<_>>()
                        )
                    })
            },
        )
    }

    /// Waits (up to [`TIMEOUT`](crate::TIMEOUT)) until the device with
    /// provider key `key` is listed and `check` accepts it (`what` says what
    /// is awaited), and returns it.
    ///
    /// # Panics
    /// On timeout, with the keys listed or `check`'s last answer and the
    /// device's entities.
    pub fn wait_device_where(
        &self,
        key: &str,
        what: &str,
        check: impl Fn(&Device) -> Result<(), String>,
    ) -> Device {
        crate::wait_for(crate::TIMEOUT, format!("device {key}: {what}"), || {
            let d = self.device_by_key(key).ok_or_else(|| {
                format!(
                    "no device {key}; devices: {:?}",
                    self.try_devices()
                        .map(|v| v.into_iter().map(|d| d.key).collect::<Vec<_>>())
                )
            })?;
            check(&d).map_err(|e| format!("{e}; entities: {:?}", d.entities))?;
            Ok(d)
        })
    }

    /// All providers.
    pub fn providers(&self) -> Vec<Provider> {
        self.get_ok("/api/v1/providers")
    }

    /// The provider called `name`, without panicking (for [`crate::wait_for`] loops).
    ///
    /// # Errors
    /// The request failed or the provider is not listed.
    pub fn try_provider(&self, name: &str) -> Result<Provider, String> {
        self.try_get_ok::<Vec<Provider>>("/api/v1/providers")?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("provider {name:?} not listed"))
    }

    /// The provider called `name`.
    ///
    /// # Panics
    /// If it is not listed.
    pub fn provider(&self, name: &str) -> Provider {
        let all = self.providers();
        all.iter()
            .find(|p| p.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("provider {name:?} not in /api/v1/providers: {all:#?}"))
    }

    /// `POST /api/v1/devices/{id}/entities/{entity}` with `values`; returns (status, body).
    ///
    /// # Panics
    /// On a transport error.
    pub fn set(&self, id: u64, entity: &str, values: &Value) -> (u16, Value) {
        let path = format!("/api/v1/devices/{id}/entities/{}", encode_segment(entity));
        self.post(&path, values).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `POST /api/v1/providers/{name}/command`: sends a custom command and
    /// returns (status, response JSON); on 200 the provider's reply is `["body"]`.
    pub fn command(&self, provider: &str, command: &str, body: &Value) -> (u16, Value) {
        let path = format!("/api/v1/providers/{}/command", encode_segment(provider));
        self.post(
            &path,
            &serde_json::json!({"command": command, "body": body}),
        )
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `POST /api/v1/providers/{name}/restart`; returns (status, body).
    ///
    /// # Panics
    /// On a transport error.
    pub fn restart_provider(&self, name: &str) -> (u16, Value) {
        self.post(
            &format!("/api/v1/providers/{name}/restart"),
            &Value::Object(Map::new()),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `POST /api/v1/providers/{name}/update` with `body` (`{"path", "version"}`
    /// or `{"version"}`); returns (status, body).
    ///
    /// # Panics
    /// On a transport error.
    pub fn update_provider(&self, name: &str, body: &Value) -> (u16, Value) {
        self.post(&format!("/api/v1/providers/{name}/update"), body)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn read(resp: ureq::http::Response<ureq::Body>, what: &str) -> Result<(u16, Value), String> {
    let status = resp.status().as_u16();
    let text = resp
        .into_body()
        .read_to_string()
        .map_err(|e| format!("{what}: reading the body: {e}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

/// Percent-encodes a path segment (entity names may contain spaces).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
