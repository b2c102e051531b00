//! Logging in to a device and mirroring it: TCP connect, the Noise handshake
//! when a key is set, Hello, DeviceInfo; then the device is created in the
//! core, its entities listed and registered, and states subscribed.

use std::collections::HashMap;

use igloo_provider::{DeviceId, EntityId};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::wire::{self, Conn, send};
use super::{API_VERSION, ErrorKind, Failure, Session, State};
use crate::api::frame::{ApiCodec, Framing};
use crate::api::noise;
use crate::api::proto::{self, Incoming};
use crate::entities::{self, EntityInfo};

/// The mirrored entities of one connection.
pub(super) struct Entities {
    /// The device in the core.
    pub(super) device: DeviceId,
    /// ESPHome entity key → Igloo entity and its description.
    pub(super) by_key: HashMap<u32, (EntityId, EntityInfo)>,
    /// Igloo entity → ESPHome entity key.
    pub(super) by_id: HashMap<EntityId, u32>,
}

impl Entities {
    /// The description of an Igloo entity of this device.
    pub(super) fn info(&self, entity: EntityId) -> Option<&EntityInfo> {
        self.by_id
            .get(&entity)
            .and_then(|k| self.by_key.get(k))
            .map(|(_, i)| i)
    }
}

/// A device's entities as listed, before registration.
struct Listing {
    /// Mapped entities, in listing order.
    listed: Vec<EntityInfo>,
    /// Entity types present but not mapped (e.g. `camera`).
    skipped: Vec<String>,
}

impl Session {
    /// TCP, handshake, Hello and DeviceInfo.
    pub(super) async fn login(&mut self) -> Result<(Conn, proto::DeviceInfoResponse), Failure> {
        let address = self.endpoint.to_string();
        let mut tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Unreachable,
                    format!("cannot connect to {address}: {e}"),
                )
            })?;
        let _ = tcp.set_nodelay(true);
        let framing = match &self.key {
            Some(psk) => {
                let (transport, _hello) = noise::handshake(&mut tcp, psk).await?;
                Framing::Noise(Box::new(transport))
            }
            None => Framing::Plaintext,
        };
        let mut conn = Framed::new(tcp, ApiCodec::new(framing));
        send(
            &mut conn,
            &proto::HelloRequest {
                client_info: format!("igloo-esphome {}", env!("CARGO_PKG_VERSION")),
                api_version_major: API_VERSION.0,
                api_version_minor: API_VERSION.1,
                ..Default::default()
            },
        )
        .await?;
        let hello = match wire::expect(&mut conn, |m| match m {
            Incoming::HelloResponse(h) => Some(std::mem::take(h)),
            _ => None,
        })
        .await
        {
            Err(f) if f.kind == ErrorKind::Closed && self.key.is_none() => {
                // Older encrypted firmware closes on a plaintext hello without a reject frame.
                return Err(Failure::new(
                    f.kind,
                    format!(
                        "{} (if the device has an API encryption key, add it)",
                        f.message
                    ),
                ));
            }
            other => other?,
        };
        if hello.api_version_major != API_VERSION.0 {
            return Err(Failure::new(
                ErrorKind::Protocol,
                format!(
                    "the device speaks native API {}.{}; this client speaks {}.x",
                    hello.api_version_major, hello.api_version_minor, API_VERSION.0
                ),
            ));
        }
        send(&mut conn, &proto::DeviceInfoRequest::default()).await?;
        let info = wire::expect(&mut conn, |m| match m {
            Incoming::DeviceInfoResponse(d) => Some(std::mem::take(d)),
            _ => None,
        })
        .await?;
        Ok((conn, info))
    }

    /// Creates the device, lists and registers its entities, subscribes to states.
    pub(super) async fn mirror(
        &mut self,
        conn: &mut Conn,
        info: proto::DeviceInfoResponse,
    ) -> Result<Entities, Failure> {
        let (device, label) = self.create_device(&info).await?;
        send(conn, &proto::ListEntitiesRequest::default()).await?;
        let Listing { listed, skipped } = list_entities(conn, &label).await?;
        let entities = self.register_entities(device, listed).await?;
        let count = entities.by_key.len();
        send(conn, &proto::SubscribeStatesRequest::default()).await?;
        self.provider
            .set_available(device, true)
            .await
            .map_err(|e| Failure::new(ErrorKind::Closed, format!("core connection: {e}")))?;
        self.set_status(|s| {
            s.state = State::Connected;
            s.entities = count;
            s.skipped = skipped;
            s.connects += 1;
            s.error = None;
            s.error_kind = None;
        });
        tracing::info!(
            device = %label,
            address = %self.endpoint,
            entities = count,
            encrypted = self.key.is_some(),
            "connected"
        );
        Ok(entities)
    }

    /// Creates (or finds again) the device in the core, keyed by its MAC,
    /// routes change requests for it to this session and records what it
    /// reported in the status. Returns its id and its label for logs.
    async fn create_device(
        &mut self,
        info: &proto::DeviceInfoResponse,
    ) -> Result<(DeviceId, String), Failure> {
        let mac = crate::mac::normalize(&info.mac_address);
        let key = match &mac {
            Some(m) => m.clone(),
            None => {
                tracing::warn!(
                    address = %self.endpoint,
                    mac = info.mac_address,
                    "the device reports no valid MAC; keying it by address"
                );
                format!("esphome:{}", self.endpoint)
            }
        };
        if let Some(m) = &mac {
            (self.on_mac)(&self.endpoint, m);
        }
        let label = if info.friendly_name.is_empty() {
            info.name.clone()
        } else {
            info.friendly_name.clone()
        };
        let mut attributes = vec![
            ("host".to_string(), self.endpoint.to_string()),
            ("encrypted".to_string(), self.key.is_some().to_string()),
        ];
        for (k, v) in [
            ("mac", mac.clone().unwrap_or_default()),
            ("node_name", info.name.clone()),
            ("model", info.model.clone()),
            ("manufacturer", info.manufacturer.clone()),
            ("esphome_version", info.esphome_version.clone()),
            ("project_name", info.project_name.clone()),
            ("project_version", info.project_version.clone()),
            ("suggested_area", info.suggested_area.clone()),
        ] {
            if !v.is_empty() {
                attributes.push((k.to_string(), v));
            }
        }
        let device = self
            .provider
            .create_device(&key, &label, attributes)
            .await
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Closed,
                    format!("the core refused the device: {e}"),
                )
            })?;
        if self.device != Some(device) {
            if let Ok(mut routes) = self.routes.lock() {
                routes.insert(device, self.tx.clone());
            }
            self.device = Some(device);
        }
        self.set_status(|s| {
            s.mac = mac.clone();
            s.name = Some(info.name.clone());
            s.esphome_version = Some(info.esphome_version.clone());
            s.device_id = Some(device);
        });
        Ok((device, label))
    }

    /// Registers the listed entities (a repeated name gets its object id
    /// appended) and writes their fixed marker components.
    async fn register_entities(
        &self,
        device: DeviceId,
        listed: Vec<EntityInfo>,
    ) -> Result<Entities, Failure> {
        let mut by_key: HashMap<u32, (EntityId, EntityInfo)> = HashMap::new();
        let mut by_id: HashMap<EntityId, u32> = HashMap::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for e in listed {
            let mut name = e.name.clone();
            if names.contains_key(&name) {
                name = format!("{} ({})", e.name, e.object_id);
            }
            *names.entry(name.clone()).or_default() += 1;
            let id = self
                .provider
                .register_entity(device, &name, e.attributes.clone())
                .await
                .map_err(|e| Failure::new(ErrorKind::Closed, format!("core connection: {e}")))?;
            if !e.markers.is_empty() {
                self.provider
                    .write(device, id, e.markers.clone())
                    .await
                    .map_err(|e| {
                        Failure::new(ErrorKind::Closed, format!("core connection: {e}"))
                    })?;
            }
            by_id.insert(id, e.key);
            by_key.insert(e.key, (id, e));
        }
        Ok(Entities {
            device,
            by_key,
            by_id,
        })
    }
}

/// Reads the ListEntities responses up to ListEntitiesDone, answering pings
/// and time requests meanwhile. Entity types this provider does not map are
/// named in `skipped` (and logged); other messages are ignored.
async fn list_entities(conn: &mut Conn, label: &str) -> Result<Listing, Failure> {
    let mut listed: Vec<EntityInfo> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    loop {
        let frame = wire::next_frame(conn).await?;
        let msg = wire::decode(&frame)?;
        if wire::answer_request(conn, &msg).await? {
            continue;
        }
        match msg {
            Incoming::ListEntitiesDone => break,
            Incoming::Other(id) => {
                if let Some(domain) = proto::unsupported_entity_type(id) {
                    tracing::warn!(
                        device = %label,
                        "skipping a {domain} entity: this provider does not map {domain} entities yet"
                    );
                    skipped.push(domain.to_string());
                } else {
                    tracing::debug!(device = %label, msg_type = id, "ignoring message during entity listing");
                }
            }
            other => match entities::entity_info(&other) {
                Some(e) => listed.push(e),
                None => {
                    tracing::debug!(device = %label, "ignoring {:?} during entity listing", wire::kind_name(&other))
                }
            },
        }
    }
    Ok(Listing { listed, skipped })
}
