//! The MQTT session and the provider's main loop.
//!
//! Two tasks:
//! - the **pump** owns rumqttc's `EventLoop` and does nothing but poll it, so
//!   outgoing publishes and keep-alives always make progress. On every CONNACK
//!   it subscribes again to every filter in [`Filters`] (`<base>/#`, the
//!   discovery filters and every topic a discovered entity reads): rumqttc
//!   does not restore subscriptions after a broker restart (clean session,
//!   `session_present = false`; see FIELD-NOTES "Real peers"). With discovery
//!   on it then publishes `online` on `<prefix>/status` (Home Assistant's
//!   birth message), which makes devices re-send their configs. On a poll
//!   error it sleeps with capped exponential back-off ([`Backoff`]) and polls
//!   again, which reconnects.
//! - the **main loop** ([`run`]) owns the [`Bridge`] (Zigbee2MQTT) and the
//!   [`Discovery`]: it takes connection changes and messages from the pump,
//!   and change requests and custom commands from the core, one at a time.
//!   Topics new discovered entities read are added to [`Filters`] and
//!   subscribed at once.
//!
//! The main loop ends when the core closes the connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use igloo_provider::protocol::ErrorCode;
use igloo_provider::{Event, Events, Provider, SdkError};
use rumqttc::{AsyncClient, ConnectionError, EventLoop, MqttOptions, Packet, QoS, SubscribeFilter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::config::Settings;
use crate::discovery::{Discovery, Publish};
use crate::publish::{Out, Publisher};
use crate::z2m::Bridge;

/// Largest MQTT packet accepted or sent. `bridge/devices` for a large network
/// is hundreds of KiB; rumqttc's default (10 KiB) would drop the connection.
pub const MAX_PACKET: usize = 16 * 1024 * 1024;

/// Capacity of rumqttc's request queue (publishes, subscribes).
const REQUEST_QUEUE: usize = 64;
/// Most Home Assistant commands waiting for the core's answer at once; a
/// command beyond that is dropped ([`InFlight`]), so a flood on the command
/// topics can grow neither the provider's memory nor its log without bound.
const HA_COMMANDS_IN_FLIGHT: usize = 64;
/// Dropped commands are logged at the first and then every this many.
const DROPS_PER_LOG_LINE: u64 = 1000;

/// The Home Assistant commands waiting for the core's answer: each task
/// holds one of [`HA_COMMANDS_IN_FLIGHT`] permits; a command that finds none
/// is dropped and counted.
struct InFlight {
    permits: Arc<Semaphore>,
    dropped: u64,
}

impl InFlight {
    fn new(limit: usize) -> InFlight {
        InFlight {
            permits: Arc::new(Semaphore::new(limit)),
            dropped: 0,
        }
    }

    /// A permit for one more command, or `None` when all are taken (the
    /// drop is counted, and logged at the first and every
    /// [`DROPS_PER_LOG_LINE`]th).
    fn try_start(&mut self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Some(permit);
        }
        self.dropped += 1;
        if self.dropped % DROPS_PER_LOG_LINE == 1 {
            tracing::warn!(
                dropped = self.dropped,
                "commands from Home Assistant dropped: {HA_COMMANDS_IN_FLIGHT} already wait for the core"
            );
        }
        None
    }
}

/// The custom command answered with the connection status.
pub const STATUS_COMMAND: &str = igloo_provider::protocol::commands::mqtt::STATUS;

/// Filters in one SUBSCRIBE packet.
const FILTERS_PER_PACKET: usize = 64;

/// Every subscription the session keeps, re-made on each CONNACK.
pub type Filters = Arc<Mutex<Vec<String>>>;

/// Subscribes to `filters` (QoS 1) in packets of [`FILTERS_PER_PACKET`].
async fn subscribe_all(client: &AsyncClient, filters: Vec<String>) {
    for chunk in filters.chunks(FILTERS_PER_PACKET) {
        let list = chunk
            .iter()
            .map(|f| SubscribeFilter::new(f.clone(), QoS::AtLeastOnce));
        if let Err(e) = client.subscribe_many(list).await {
            tracing::warn!("cannot queue a subscription: {e}");
            return;
        }
    }
}

/// Capped exponential back-off: `initial`, doubling up to `max`; [`Backoff::reset`]
/// after a successful connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `initial`, never exceeds `max`.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay to wait now; the following one doubles (capped).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// Back to the initial delay.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// What the pump tells the main loop.
#[derive(Debug)]
enum FromBroker {
    Connected,
    Disconnected,
    Message(rumqttc::Publish),
}

/// Builds rumqttc's options from validated settings.
fn options(settings: &Settings) -> MqttOptions {
    let mut o = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    // `Settings::keep_alive` is whole seconds from a u16, so rumqttc's
    // "zero or at least one second" assertion holds.
    o.set_keep_alive(settings.keep_alive);
    o.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    o.set_clean_session(true);
    o.set_request_channel_capacity(REQUEST_QUEUE);
    if let Some((user, password)) = &settings.credentials {
        o.set_credentials(user, password);
    }
    if let Some(p) = &settings.publish {
        // Discovery out: every published entity is unavailable while this
        // provider is away from the broker.
        let topic = format!("{}/bridge/state", p.base_topic);
        o.set_last_will(rumqttc::LastWill::new(
            topic,
            "offline",
            QoS::AtLeastOnce,
            true,
        ));
    }
    o
}

/// Runs the provider until the core closes the connection.
///
/// # Errors
/// An SDK error other than the core closing the connection.
pub async fn run(
    provider: Provider,
    mut events: Events,
    settings: Settings,
) -> Result<(), SdkError> {
    let (client, eventloop) = AsyncClient::new(options(&settings), REQUEST_QUEUE);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let broker = format!("{}:{}", settings.host, settings.port);
    let mut bridge = Bridge::new(provider.clone(), &settings.base_topic);
    let mut discovery = settings
        .discovery_prefix
        .as_deref()
        .map(|prefix| Discovery::new(provider.clone(), prefix, &settings.base_topic));
    let mut publisher = settings.publish.clone().map(Publisher::new);
    let mut in_flight = InFlight::new(HA_COMMANDS_IN_FLIGHT);
    let mut initial = vec![format!("{}/#", settings.base_topic)];
    if let Some(d) = discovery.as_mut() {
        if let Some(p) = &publisher {
            d.ignore_own(&p.options().base_topic);
        }
        initial.extend(d.all_topics());
    }
    if let Some(p) = &publisher {
        initial.extend(p.topics());
    }
    let filters: Filters = Arc::new(Mutex::new(initial));
    let birth = settings
        .discovery_prefix
        .as_deref()
        .map(|p| format!("{p}/status"));
    let pump = tokio::spawn(pump(
        eventloop,
        client.clone(),
        filters.clone(),
        birth,
        broker,
        tx,
    ));

    if let Some(p) = publisher.as_mut() {
        start_observing(&provider, p).await;
    }
    let result = loop {
        let step = tokio::select! {
            event = events.next() => match event {
                None => break Ok(()),
                Some(event) => {
                    let event = match publisher.as_mut() {
                        Some(p) => on_tree_event(p, event),
                        None => Err(event),
                    };
                    match event {
                        Ok(outs) => {
                            publish_outs(&client, outs).await;
                            Ok(())
                        }
                        Err(event) => {
                            let parts = Parts { provider: &provider, client: &client, bridge: &bridge, discovery: discovery.as_ref(), publisher: publisher.as_mut() };
                            on_core_event(parts, event).await
                        }
                    }
                }
            },
            Some(msg) = rx.recv() => {
                let msg = match publisher.as_mut() {
                    Some(p) => on_published_topic(p, &provider, &client, &mut in_flight, msg).await,
                    None => Some(msg),
                };
                match msg {
                    Some(msg) => on_broker(msg, &mut bridge, discovery.as_mut(), &client, &filters).await,
                    None => Ok(()),
                }
            }
        };
        match step {
            Ok(()) => {}
            Err(SdkError::Closed) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    pump.abort();
    let _ = client.try_disconnect();
    result
}

/// Asks the core for the tree (discovery out), or says why it cannot.
async fn start_observing(provider: &Provider, p: &mut Publisher) {
    if !provider.core_has_tree() {
        let w = provider.welcome();
        let why = format!(
            "core {} (protocol {}.{}) cannot share its device tree (needs protocol 1.1)",
            w.core_version, w.protocol_major, w.protocol_minor
        );
        tracing::error!("discovery out disabled: {why}");
        p.set_refused(why);
        return;
    }
    if let Err(e) = provider.observe_tree().await {
        tracing::error!("discovery out disabled: {e}");
        p.set_refused(e.to_string());
    }
}

/// Tree events go to the publisher (`Ok`: what to publish); others are given back.
fn on_tree_event(p: &mut Publisher, event: Event) -> Result<Vec<Out>, Event> {
    Ok(match event {
        Event::TreeDevice(d) => p.device(*d),
        Event::TreeState {
            device,
            entity,
            values,
        } => p.state(device, &entity, &values),
        Event::TreeAvailability { device, available } => p.availability(device, available),
        Event::TreeRemoved { device } => p.removed(device),
        Event::TreeSynced { devices } => p.synced(devices),
        Event::Error { code, message } if code == ErrorCode::FORBIDDEN => {
            tracing::error!(
                "discovery out disabled: {message} (give this provider tree = \"control\" in igloo.toml)"
            );
            p.set_refused(message);
            vec![]
        }
        other => return Err(other),
    })
}

/// Publishes discovery-out messages (QoS 1), waiting for room in the queue.
async fn publish_outs(client: &AsyncClient, outs: Vec<Out>) {
    for o in outs {
        tracing::trace!(topic = o.topic, bytes = o.payload.len(), "discovery out");
        if let Err(e) = client
            .publish(o.topic, QoS::AtLeastOnce, o.retain, o.payload)
            .await
        {
            tracing::warn!("cannot queue a discovery-out message: {e}");
            return;
        }
    }
}

/// Discovery out's share of broker messages: on connect everything is
/// published again, Home Assistant's `online` republishes it, and commands
/// become change requests (sent from a task: the answer comes through the
/// same reader as the events; at most [`HA_COMMANDS_IN_FLIGHT`] wait at
/// once: [`InFlight`]). Returns the message when it is not (only) ours.
async fn on_published_topic(
    p: &mut Publisher,
    provider: &Provider,
    client: &AsyncClient,
    in_flight: &mut InFlight,
    msg: FromBroker,
) -> Option<FromBroker> {
    let FromBroker::Message(m) = &msg else {
        if matches!(msg, FromBroker::Connected) {
            publish_outs(client, p.everything()).await;
        }
        return Some(msg);
    };
    if let Some(clear) = p.stale_config(&m.topic, &m.payload) {
        publish_outs(client, vec![clear]).await;
    }
    if let Some(outs) = p.ha_status(&m.topic, &m.payload) {
        tracing::info!("Home Assistant is online; publishing discovery again");
        publish_outs(client, outs).await;
        return None;
    }
    let Some(command) = p.command(&m.topic, &m.payload) else {
        return Some(msg);
    };
    match command {
        Err(why) => tracing::warn!("command from Home Assistant ignored: {why}"),
        Ok(c) => {
            let permit = in_flight.try_start()?;
            let provider = provider.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let (device, entity) = (c.device, c.entity.clone());
                if let Err(e) = provider.request_change(c.device, &c.entity, c.values).await {
                    tracing::warn!(device = %device, entity, "command from Home Assistant refused: {e}");
                }
            });
        }
    }
    None
}

/// One broker event for both halves; new discovery topics are subscribed.
async fn on_broker(
    msg: FromBroker,
    bridge: &mut Bridge,
    mut discovery: Option<&mut Discovery>,
    client: &AsyncClient,
    filters: &Filters,
) -> Result<(), SdkError> {
    match msg {
        FromBroker::Connected => {
            bridge.connected().await?;
            if let Some(d) = discovery.as_deref_mut() {
                d.set_connected(true).await?;
            }
        }
        FromBroker::Disconnected => {
            bridge.disconnected().await?;
            if let Some(d) = discovery.as_deref_mut() {
                d.set_connected(false).await?;
            }
        }
        FromBroker::Message(p) => {
            bridge.message(&p.topic, &p.payload).await?;
            if let Some(d) = discovery.as_deref_mut() {
                d.message(&p.topic, &p.payload).await?;
            }
        }
    }
    if let Some(d) = discovery {
        let new = d.take_new_topics();
        if !new.is_empty() {
            if let Ok(mut all) = filters.lock() {
                all.extend(new.iter().cloned());
            }
            if bridge.is_connected() {
                subscribe_all(client, new).await;
            }
        }
    }
    Ok(())
}

/// What handling a core event needs.
struct Parts<'a> {
    provider: &'a Provider,
    client: &'a AsyncClient,
    bridge: &'a Bridge,
    discovery: Option<&'a Discovery>,
    publisher: Option<&'a mut Publisher>,
}

/// Publishes a discovered entity's commands; the first failure is the refusal reason.
fn publish_all(client: &AsyncClient, list: Vec<Publish>) -> Option<String> {
    for p in list {
        let qos = match p.qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        tracing::debug!(topic = p.topic, payload = p.payload, "publishing");
        if let Err(e) = client.try_publish(p.topic, qos, p.retain, p.payload) {
            return Some(format!("cannot publish to the broker: {e}"));
        }
    }
    None
}

async fn on_core_event(parts: Parts<'_>, event: Event) -> Result<(), SdkError> {
    let Parts {
        provider,
        client,
        bridge,
        discovery,
        publisher,
    } = parts;
    match event {
        Event::Change {
            device,
            entity,
            values,
        } => {
            let discovered = discovery.and_then(|d| d.change(device, entity, &values));
            let refused = if !bridge.is_connected() {
                Some("not connected to the MQTT broker".to_string())
            } else if let Some(result) = discovered {
                match result {
                    Ok(list) => publish_all(client, list),
                    Err(why) => Some(why),
                }
            } else if let Some((topic, payload)) = bridge.change(device, entity, &values) {
                tracing::debug!(device = %device, entity, topic, payload, "publishing");
                client
                    .try_publish(topic, QoS::AtLeastOnce, false, payload)
                    .err()
                    .map(|e| format!("cannot publish to the broker: {e}"))
            } else {
                Some("none of these components can be set on this device".to_string())
            };
            match refused {
                Some(reason) => {
                    tracing::warn!(device = %device, entity, "refusing a change request: {reason}");
                    provider.refuse_change(device, entity, &reason).await
                }
                None => Ok(()),
            }
        }
        Event::Custom {
            request_id,
            command,
            ..
        } => {
            if command == STATUS_COMMAND {
                let mut status: serde_json::Value =
                    serde_json::from_str(&bridge.status_json()).unwrap_or_default();
                if let Some(d) = discovery {
                    status["discovery"] = d.status();
                }
                if let Some(p) = publisher {
                    status["publish"] = p.status();
                }
                provider.reply_custom(request_id, status.to_string()).await
            } else {
                provider
                    .reply_error(
                        request_id,
                        ErrorCode::UNSUPPORTED,
                        format!(
                            "igloo-mqtt has no command {command:?}; supported: {STATUS_COMMAND}"
                        ),
                    )
                    .await
            }
        }
        Event::Error { code, message } => {
            tracing::warn!(code = code.0, "core reported: {message}");
            Ok(())
        }
        // MQTT needs no granted devices; later event kinds are ignored.
        _ => Ok(()),
    }
}

/// Polls the event loop forever, forwarding connection changes and publishes.
async fn pump(
    mut eventloop: EventLoop,
    client: AsyncClient,
    filters: Filters,
    birth: Option<String>,
    broker: String,
    tx: mpsc::UnboundedSender<FromBroker>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut failures: u32 = 0;
    loop {
        let forwarded = match eventloop.poll().await {
            Ok(rumqttc::Event::Incoming(Packet::ConnAck(_))) => {
                let all: Vec<String> = filters.lock().map(|f| f.clone()).unwrap_or_default();
                tracing::info!(
                    broker,
                    filters = all.len(),
                    "connected to the MQTT broker; subscribing to {}",
                    all.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
                );
                backoff.reset();
                failures = 0;
                // Subscribe from another task: this one must keep polling for
                // the request to go out (and the queue may be full).
                let (c, b) = (client.clone(), birth.clone());
                tokio::spawn(async move {
                    subscribe_all(&c, all).await;
                    if let Some(topic) = b
                        && let Err(e) = c.publish(topic, QoS::AtLeastOnce, false, "online").await
                    {
                        tracing::warn!("cannot queue the discovery birth message: {e}");
                    }
                });
                tx.send(FromBroker::Connected)
            }
            Ok(rumqttc::Event::Incoming(Packet::Publish(p))) => {
                tracing::trace!(topic = p.topic, bytes = p.payload.len(), "message");
                tx.send(FromBroker::Message(p))
            }
            Ok(rumqttc::Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                {
                    tracing::error!(broker, "the broker refused a subscription (check its ACL)");
                }
                Ok(())
            }
            Ok(event) => {
                tracing::trace!(?event, "mqtt");
                Ok(())
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = backoff.next_delay();
                if failures == 1 || failures.is_multiple_of(12) {
                    tracing::warn!(
                        broker,
                        failures,
                        "MQTT connection failed: {}; retrying in {delay:?}",
                        describe(&e)
                    );
                } else {
                    tracing::debug!(
                        broker,
                        failures,
                        "MQTT connection failed: {}; retrying in {delay:?}",
                        describe(&e)
                    );
                }
                let sent = tx.send(FromBroker::Disconnected);
                tokio::time::sleep(delay).await;
                sent
            }
        };
        if forwarded.is_err() {
            return; // the main loop is gone
        }
    }
}

/// A connection error for the log, with a hint where one helps.
fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => {
            format!(
                "the broker refused the connection ({code:?}); check username/password and client_id"
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn commands_beyond_the_limit_are_dropped_and_counted_until_one_ends() {
        let mut in_flight = super::InFlight::new(2);
        let first = in_flight.try_start();
        let second = in_flight.try_start();
        assert!(first.is_some() && second.is_some());
        assert!(in_flight.try_start().is_none());
        assert!(in_flight.try_start().is_none());
        assert_eq!(in_flight.dropped, 2);
        drop(first);
        assert!(in_flight.try_start().is_some());
        assert_eq!(in_flight.dropped, 2);
    }

    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        let ms: Vec<u128> = (0..7).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [200, 400, 800, 1600, 3200, 5000, 5000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(200));
    }

    #[test]
    fn options_carry_the_settings() {
        let s = Settings {
            host: "broker.lan".into(),
            port: 1884,
            base_topic: "z2m".into(),
            client_id: "gw".into(),
            credentials: Some(("u".into(), "p".into())),
            keep_alive: Duration::from_secs(7),
            discovery_prefix: None,
            publish: None,
        };
        let o = options(&s);
        assert_eq!(o.broker_address(), ("broker.lan".to_string(), 1884));
        assert_eq!(o.client_id(), "gw");
        assert_eq!(o.keep_alive(), Duration::from_secs(7));
        assert_eq!(o.max_packet_size(), MAX_PACKET);
        assert!(o.clean_session());
        let login = o.credentials();
        assert_eq!(
            login.map(|l| (l.username, l.password)),
            Some(("u".to_string(), "p".to_string()))
        );
    }
}
