//! One provider connection: handshake, message dispatch, heartbeat.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use igloo_protocol::codec::MessageCodec;
use igloo_protocol::commands;
use igloo_protocol::message::{CustomReply, ErrorReply, Hello, RequestChange, Welcome};
use igloo_protocol::{
    DEFAULT_MAX_FRAME, ErrorCode, MAX_COMPONENT_ID, MAX_MESSAGE_ID, Message, Negotiated,
    PROTOCOL_MAJOR, PROTOCOL_MINOR, encode_frame,
};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;

use super::observe::{self, Observer, Sink};
use super::port::{Port, ToProvider};
use crate::config::provider::TreeAccess;
use crate::provider_log::{ProviderLog, limited};
use crate::tree::{Link, RequestError, TreeCmd, TreeHandle};

/// How long a provider has to send `Hello` after start.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Queue depth of messages to one provider.
const OUTBOX: usize = 4096;

/// What the connection learned in the handshake.
pub struct Peer {
    /// Provider version from `Hello`.
    pub version: String,
    /// `major.minor` from `Hello`.
    pub protocol: String,
}

/// Why a connection ended.
#[derive(Debug, Clone)]
pub enum End {
    /// The provider closed the socket.
    Closed,
    /// A frame could not be decoded, or was too long.
    Protocol(String),
    /// The handshake failed.
    Handshake(String),
    /// No `Pong` within the heartbeat timeout.
    Hung,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Closed => f.write_str("connection closed"),
            End::Protocol(e) => write!(f, "protocol violation: {e}"),
            End::Handshake(e) => write!(f, "handshake failed: {e}"),
            End::Hung => f.write_str("heartbeat timeout"),
        }
    }
}

/// Settings for a connection.
pub struct Settings {
    /// Provider name.
    pub name: Arc<str>,
    /// `[provider.config]` TOML text.
    pub config_toml: String,
    /// The provider's data dir.
    pub data_dir: String,
    /// Max frame payload from the provider.
    pub max_frame: usize,
    /// Ping period.
    pub heartbeat_interval: Duration,
    /// Pong deadline.
    pub heartbeat_timeout: Duration,
    /// `tree = …`: whether it may observe and change other providers' devices.
    pub tree: TreeAccess,
}

/// The provider's incoming frames.
pub type Frames = FramedRead<OwnedReadHalf, MessageCodec>;

/// Performs the handshake. On success returns the split stream for [`serve`].
///
/// # Errors
/// [`End::Handshake`] (after telling the provider why, where possible) or [`End::Protocol`].
pub async fn handshake(
    socket: UnixStream,
    s: &Settings,
    log: &ProviderLog,
) -> Result<(Frames, OwnedWriteHalf, Negotiated, Peer), End> {
    let (frames, mut write, hello) = read_hello(socket, s.max_frame).await?;
    let (negotiated, peer) = accept(hello, &mut write, s, log).await?;
    Ok((frames, write, negotiated, peer))
}

/// Waits (at most [`HELLO_TIMEOUT`]) for the provider's `Hello`.
///
/// # Errors
/// [`End::Handshake`] or [`End::Protocol`].
pub async fn read_hello(
    socket: UnixStream,
    max_frame: usize,
) -> Result<(Frames, OwnedWriteHalf, Hello), End> {
    let (read, write) = socket.into_split();
    let mut frames = FramedRead::new(read, MessageCodec::new(max_frame));
    match tokio::time::timeout(HELLO_TIMEOUT, frames.next()).await {
        Err(_) => Err(End::Handshake(format!(
            "no Hello within {}s",
            HELLO_TIMEOUT.as_secs()
        ))),
        Ok(None) => Err(End::Handshake("closed before Hello".into())),
        Ok(Some(Err(e))) => Err(End::Protocol(e.to_string())),
        Ok(Some(Ok(Message::Hello(h)))) => Ok((frames, write, h)),
        Ok(Some(Ok(other))) => Err(End::Handshake(format!(
            "expected Hello, got {}",
            other.name()
        ))),
    }
}

/// Tells the provider why it is refused (best effort) and returns the reason.
pub async fn refuse(write: &mut OwnedWriteHalf, code: ErrorCode, message: String) -> End {
    let _ = write_one(
        write,
        &Message::Error(ErrorReply {
            request_id: 0,
            code,
            message: message.clone(),
        }),
    )
    .await;
    End::Handshake(message)
}

/// Answers a `Hello`: refuses an unknown protocol major (naming both
/// versions) or sends `Welcome` with the provider's config and data dir;
/// logs the connection within `log`'s budget.
///
/// # Errors
/// [`End::Handshake`].
pub async fn accept(
    hello: Hello,
    write: &mut OwnedWriteHalf,
    s: &Settings,
    log: &ProviderLog,
) -> Result<(Negotiated, Peer), End> {
    let negotiated = match Negotiated::from_hello(&hello) {
        Ok(n) => n,
        Err(e) => {
            let msg = format!("{e} (core {})", env!("CARGO_PKG_VERSION"));
            return Err(refuse(write, ErrorCode::PROTOCOL_VERSION, msg).await);
        }
    };
    let welcome = Message::Welcome(Welcome {
        protocol_major: PROTOCOL_MAJOR,
        protocol_minor: PROTOCOL_MINOR,
        core_version: env!("CARGO_PKG_VERSION").to_string(),
        max_component_id: MAX_COMPONENT_ID,
        max_message_id: MAX_MESSAGE_ID,
        config: s.config_toml.clone(),
        data_dir: s.data_dir.clone(),
    });
    write_one(write, &welcome)
        .await
        .map_err(|e| End::Handshake(format!("sending Welcome: {e}")))?;
    // Within the provider's log budget: a provider that reconnects in a
    // loop must not flood the log (a supervised one is also held back by
    // its restart back-off).
    limited!(
        log,
        "lifecycle",
        tracing::Level::INFO,
        version = hello.version,
        protocol = format!("{}.{}", hello.protocol_major, hello.protocol_minor),
        max_component_id = hello.max_component_id,
        max_message_id = hello.max_message_id,
        "provider connected"
    );
    let peer = Peer {
        version: hello.version,
        protocol: format!("{}.{}", hello.protocol_major, hello.protocol_minor),
    };
    Ok((negotiated, peer))
}

async fn write_one(w: &mut OwnedWriteHalf, msg: &Message) -> std::io::Result<()> {
    let mut buf = BytesMut::new();
    encode_frame(msg, &mut buf, DEFAULT_MAX_FRAME).map_err(std::io::Error::other)?;
    w.write_all(&buf).await
}

/// What a supervised provider's connection has beyond a hand-started one.
pub struct Supervised<'a> {
    /// Its grants (re)sent at once, and pending commands.
    pub port: &'a mut Port,
    /// Grants, revocations and custom commands delivered while connected.
    pub inbox: &'a mut mpsc::Receiver<ToProvider>,
    /// Where its report of a config error goes (message, dotted key), from
    /// the [`commands::CONFIG_ERROR`] command it sends before exiting with
    /// [`igloo_protocol::EXIT_CONFIG`].
    pub config_report: &'a mut Option<(String, Option<String>)>,
}

/// The tree's view of one connection, from `ProviderUp` to `ProviderDown`:
/// dropping it sends `ProviderDown` for this connection, however the serving
/// future ends (returns, or is dropped when the process exits first).
struct Registered {
    tree: TreeHandle,
    provider: Arc<str>,
    connection: u64,
}

impl Registered {
    async fn new(tree: &TreeHandle, link: Link) -> Registered {
        let (provider, connection) = (link.provider(), link.connection());
        tree.send(TreeCmd::ProviderUp {
            provider: provider.clone(),
            link,
        })
        .await;
        Registered {
            tree: tree.clone(),
            provider,
            connection,
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.tree.send_detached(TreeCmd::ProviderDown {
            provider: self.provider.clone(),
            connection: self.connection,
        });
    }
}

/// Serves a connected provider until it closes, violates the protocol or
/// stops answering pings. Registers the link with the tree for as long as it
/// serves (`ProviderUp`, then `ProviderDown` when it ends or is dropped). A
/// supervised provider also has a `port`: its grants are (re)sent at once,
/// and grants, revocations and custom commands arriving on `inbox` are
/// delivered while connected.
pub async fn serve(
    mut frames: Frames,
    write: OwnedWriteHalf,
    negotiated: Negotiated,
    s: &Settings,
    tree: &TreeHandle,
    dropped: Arc<AtomicU64>,
    supervised: Option<Supervised<'_>>,
) -> End {
    let (mut port, mut inbox, mut config_report) = match supervised {
        Some(sv) => (Some(sv.port), Some(sv.inbox), Some(sv.config_report)),
        None => (None, None, None),
    };
    let (out_tx, out_rx) = mpsc::channel(OUTBOX);
    let (observed_tx, observed_rx) = mpsc::channel(observe::QUEUE);
    let writer = tokio::spawn(writer(write, out_rx, observed_rx));
    let sink = Sink {
        tx: observed_tx,
        negotiated,
        dropped: dropped.clone(),
    };
    let mut observer: Option<Observer> = None;
    let link = Link::new(s.name.clone(), out_tx, negotiated, dropped);
    let _registered = Registered::new(tree, link.clone()).await;
    if let Some(p) = port.as_mut() {
        p.connected(&link);
    }

    let mut heartbeat =
        tokio::time::interval_at(Instant::now() + s.heartbeat_interval, s.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pong = Instant::now();
    let mut nonce = 0u64;
    let log = Arc::new(ProviderLog::new(s.name.clone()));
    let end = loop {
        tokio::select! {
            frame = frames.next() => match frame {
                None => break End::Closed,
                Some(Err(e)) => break End::Protocol(e.to_string()),
                Some(Ok(msg)) => match msg {
                    Message::Ping(n) => { let _ = link.send(Message::Pong(n)); }
                    Message::Pong(_) => last_pong = Instant::now(),
                    Message::CreateDevice(_) | Message::CreateDeviceWithAvailability(_)
                    | Message::RegisterEntity(_) | Message::WriteComponents(_)
                    | Message::SetAvailability(_) | Message::RemoveDevice(_) | Message::RemoveEntity(_) => {
                        if !tree.send(TreeCmd::FromProvider { provider: s.name.clone(), msg }).await {
                            break End::Closed;
                        }
                    }
                    Message::Custom(c) => {
                        let reply = core_command(&s.name, tree, c.command.as_str(), &c.body, config_report.as_deref_mut());
                        let _ = link.send(match reply {
                            Ok(body) => Message::CustomReply(CustomReply { request_id: c.request_id, body }),
                            Err((code, message)) => Message::Error(ErrorReply { request_id: c.request_id, code, message }),
                        });
                    }
                    Message::CustomReply(r) => {
                        let known = port.as_mut().is_some_and(|p| p.replied(r.request_id, r.body));
                        if !known {
                            tracing::debug!(provider = &*s.name, request = r.request_id, "reply to no pending command");
                        }
                    }
                    Message::Error(e) => {
                        let (code, message) = (e.code, e.message);
                        let known = e.request_id != 0
                            && port.as_mut().is_some_and(|p| p.refused(e.request_id, code, message.clone()));
                        if !known {
                            limited!(log, "reported", tracing::Level::WARN, code = code.0, request = e.request_id, "provider reported: {message}");
                        }
                    }
                    Message::ObserveTree(o) => {
                        if permitted(s, TreeAccess::Read, "ObserveTree", o.request_id, &link, &log) {
                            // A second ObserveTree restarts the stream.
                            drop(observer.take());
                            observer = Some(observe::start(tree.clone(), sink.clone(), o.request_id, log.clone()));
                        }
                    }
                    Message::RequestChange(r) => {
                        if permitted(s, TreeAccess::Control, "RequestChange", r.request_id, &link, &log) {
                            request_change(tree, &link, &log, r).await;
                        }
                    }
                    other @ (Message::Hello(_) | Message::Welcome(_) | Message::DeviceCreated(_)
                        | Message::Grant(_) | Message::Revoke(_) | Message::TreeDevice(_)
                        | Message::TreeState(_) | Message::TreeAvailability(_)
                        | Message::TreeRemoved(_) | Message::TreeSynced(_)) => {
                        limited!(log, "violation", tracing::Level::WARN, msg_type = other.name(), "unexpected message after the handshake");
                        let _ = link.send(Message::Error(ErrorReply { request_id: 0, code: ErrorCode::PROTOCOL, message: format!("unexpected {}", other.name()) }));
                    }
                },
            },
            Some(msg) = async {
                match inbox.as_mut() {
                    Some(inbox) => inbox.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(p) = port.as_mut() {
                    p.handle(&link, msg);
                }
            }
            _ = heartbeat.tick() => {
                if last_pong.elapsed() > s.heartbeat_timeout {
                    break End::Hung;
                }
                nonce += 1;
                let _ = link.send(Message::Ping(nonce));
            }
        }
    };
    drop(observer);
    writer.abort();
    if let Some(p) = port.as_mut() {
        p.disconnected();
    }
    end
}

/// Whether the provider's `tree` permission allows `what`; if not, answers
/// `request_id` with [`ErrorCode::FORBIDDEN`] and logs it (within budget).
fn permitted(
    s: &Settings,
    needs: TreeAccess,
    what: &str,
    request_id: u32,
    link: &Link,
    log: &ProviderLog,
) -> bool {
    if s.tree >= needs {
        return true;
    }
    limited!(
        log,
        "forbidden",
        tracing::Level::WARN,
        msg_type = what,
        tree = s.tree.as_str(),
        "refused {what}: the provider needs tree = \"{}\" in its [[provider]] table",
        needs.as_str()
    );
    let message = format!(
        "{what} needs tree = \"{}\" for provider {} in the core config (it has \"{}\")",
        needs.as_str(),
        s.name,
        s.tree.as_str()
    );
    let _ = link.send(Message::Error(ErrorReply {
        request_id,
        code: ErrorCode::FORBIDDEN,
        message,
    }));
    false
}

/// Carries out a provider's change request for any device, exactly like a
/// user's (`TreeHandle::request`), and answers it: `CustomReply` `{}` when
/// it was forwarded to the owning provider, else an `Error` whose code
/// matches the [`RequestError`].
async fn request_change(tree: &TreeHandle, link: &Link, log: &ProviderLog, r: RequestChange) {
    let (device, entity) = (r.device, r.entity.clone());
    let reply = match tree.request(r.device, r.entity, r.values).await {
        Ok(()) => Message::CustomReply(CustomReply {
            request_id: r.request_id,
            body: "{}".into(),
        }),
        Err(e) => {
            limited!(
                log,
                "request",
                tracing::Level::INFO,
                device = device.0,
                entity,
                "change request refused: {e}"
            );
            Message::Error(ErrorReply {
                request_id: r.request_id,
                code: request_error_code(&e),
                message: e.to_string(),
            })
        }
    };
    let _ = link.send(reply);
}

/// The [`ErrorCode`] a [`RequestError`] is answered with.
pub fn request_error_code(e: &RequestError) -> ErrorCode {
    match e {
        RequestError::UnknownDevice(_) => ErrorCode::UNKNOWN_DEVICE,
        RequestError::UnknownEntity(..) => ErrorCode::UNKNOWN_ENTITY,
        RequestError::ReadOnly { .. } | RequestError::NotAnOption { .. } => ErrorCode::INVALID,
        RequestError::Unsupported(..) => ErrorCode::UNSUPPORTED,
        RequestError::ProviderDown(_)
        | RequestError::Busy(_)
        | RequestError::ShuttingDown
        | RequestError::Unavailable(_) => ErrorCode::UNAVAILABLE,
    }
}

/// The body of [`commands::CONFIG_ERROR`].
#[derive(serde::Deserialize)]
struct ConfigErrorBody {
    message: String,
    #[serde(default)]
    key: Option<String>,
}

/// The body of [`commands::CHANGE_REFUSED`].
#[derive(serde::Deserialize)]
struct ChangeRefusedBody {
    device: u64,
    entity: igloo_protocol::EntityId,
    reason: String,
}

/// Answers a custom command a provider sends to the core
/// ([`igloo_protocol::commands`], `docs/providers.md`).
///
/// # Errors
/// The code and message of the `Error` reply: an unknown command, a body
/// that does not parse, or a command only supervised providers may send.
fn core_command(
    provider: &Arc<str>,
    tree: &TreeHandle,
    command: &str,
    body: &str,
    config_report: Option<&mut Option<(String, Option<String>)>>,
) -> Result<String, (ErrorCode, String)> {
    match command {
        commands::CONFIG_ERROR => {
            let b: ConfigErrorBody = serde_json::from_str(body).map_err(|e| {
                (
                    ErrorCode::INVALID,
                    format!("{command}: body must be {{\"message\": text, \"key\": text?}}: {e}"),
                )
            })?;
            let Some(slot) = config_report else {
                return Err((
                    ErrorCode::UNSUPPORTED,
                    format!("{command} is for providers the core starts"),
                ));
            };
            let message: String = b.message.chars().take(MAX_REPORT).collect();
            let key = b
                .key
                .map(|k| k.chars().take(MAX_REPORT).collect::<String>());
            tracing::error!(
                provider = &**provider,
                key = key.as_deref().unwrap_or(""),
                "provider reports a config error: {message}"
            );
            *slot = Some((message, key));
            Ok("{}".into())
        }
        commands::CHANGE_REFUSED => {
            let b: ChangeRefusedBody = serde_json::from_str(body).map_err(|e| {
                let shape = r#"{"device": id, "entity": number, "reason": text}"#;
                (
                    ErrorCode::INVALID,
                    format!("{command}: body must be {shape}: {e}"),
                )
            })?;
            tree.send_detached(TreeCmd::ChangeRefused {
                provider: provider.clone(),
                device: igloo_protocol::DeviceId(b.device),
                entity: b.entity,
                reason: b.reason,
            });
            Ok("{}".into())
        }
        other => Err((
            ErrorCode::UNSUPPORTED,
            format!("the core has no command {other:?}"),
        )),
    }
}

/// Longest config report kept, characters.
const MAX_REPORT: usize = 1024;

/// Writes queued messages in batches: everything already queued is encoded
/// before one `write_all`, so a burst costs one syscall. The connection's own
/// messages (`rx`) go first; a tree observer's (`observed`) fill in behind
/// them, so a large snapshot never delays a change request or a `Ping`.
async fn writer(
    mut w: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Message>,
    mut observed: mpsc::Receiver<Message>,
) {
    let mut buf = BytesMut::with_capacity(8192);
    let mut batch = Vec::with_capacity(256);
    let mut batch_observed = Vec::with_capacity(256);
    let mut observing = true;
    loop {
        tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, 256) => {
                if n == 0 {
                    return;
                }
            }
            n = observed.recv_many(&mut batch_observed, 256), if observing => {
                observing = n > 0;
            }
        }
        for msg in batch.drain(..).chain(batch_observed.drain(..)) {
            if let Err(e) = encode_frame(&msg, &mut buf, DEFAULT_MAX_FRAME) {
                tracing::error!(
                    msg_type = msg.name(),
                    "cannot encode message for a provider: {e}"
                );
            }
        }
        if w.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
    }
}
