//! What the rest of the core sends to one supervised provider outside the
//! device tree: hardware grants and revocations from the grant manager, and
//! custom commands from the API. Held by the provider's task across restarts:
//! grants are state (re-sent on every new connection), commands are answered
//! with an error while the provider is not connected.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use igloo_protocol::message::{Attributes, Custom, Grant, Revoke};
use igloo_protocol::{ErrorCode, Message};
use tokio::sync::oneshot;

use crate::tree::Link;

use igloo_protocol::ids::{GRANT as GRANT_ID, REVOKE as REVOKE_ID};

/// The reply to a custom command: the provider's JSON text, or an error.
pub type CommandReply = Result<String, CommandError>;

/// Why a custom command got no reply body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    /// No provider with that name.
    #[error("no provider named {0:?}")]
    Unknown(String),
    /// The provider is not connected right now.
    #[error("provider {0:?} is not running")]
    NotRunning(String),
    /// The provider answered with an `Error` message.
    #[error("provider refused (code {code}): {message}")]
    Refused {
        /// Its error code.
        code: u16,
        /// Its explanation.
        message: String,
    },
    /// No answer in time, or the connection ended first.
    #[error("no reply from provider {0:?}")]
    NoReply(String),
    /// The provider's protocol predates custom commands, or its queue is full.
    #[error("cannot deliver to provider {0:?}: {1}")]
    Undeliverable(String, String),
}

/// A message for one provider.
#[derive(Debug)]
pub enum ToProvider {
    /// A device was opened for it.
    Grant(ActiveGrant),
    /// A granted device is gone.
    Revoke {
        /// The grant number.
        grant: u32,
        /// Why.
        reason: String,
    },
    /// A custom command from the API.
    Command {
        /// Command name.
        command: String,
        /// JSON text argument.
        body: String,
        /// Where the reply goes.
        reply: oneshot::Sender<CommandReply>,
    },
}

/// A device granted to a provider; the core keeps its fd open until unplug.
#[derive(Debug, Clone)]
pub struct ActiveGrant {
    /// Core-wide grant number.
    pub grant: u32,
    /// Kernel name (`ttyUSB0`).
    pub name: String,
    /// Attributes sent with the grant.
    pub attributes: Attributes,
    /// The core's open fd.
    pub fd: Arc<OwnedFd>,
}

/// The provider side of a supervised connection: its grant socket, its
/// grants and its pending custom commands.
pub struct Port {
    /// Provider name, for logs and errors.
    pub name: Arc<str>,
    /// Grants in force, by number (survive restarts).
    pub grants: BTreeMap<u32, ActiveGrant>,
    /// The core's end of the current grant socket.
    pub socket: Option<OwnedFd>,
    pending: HashMap<u32, oneshot::Sender<CommandReply>>,
    next_request: u32,
}

impl Port {
    /// A port for provider `name` with no connection yet.
    pub fn new(name: Arc<str>) -> Port {
        Port {
            name,
            grants: BTreeMap::new(),
            socket: None,
            pending: HashMap::new(),
            next_request: 1,
        }
    }

    /// Handles `msg` while the provider is not connected.
    pub fn absorb(&mut self, msg: ToProvider) {
        match msg {
            ToProvider::Grant(g) => {
                self.grants.insert(g.grant, g);
            }
            ToProvider::Revoke { grant, .. } => {
                self.grants.remove(&grant);
            }
            ToProvider::Command { reply, .. } => {
                let _ = reply.send(Err(CommandError::NotRunning(self.name.to_string())));
            }
        }
    }

    /// Sends every grant in force over a new connection.
    pub fn connected(&mut self, link: &Link) {
        let grants: Vec<ActiveGrant> = self.grants.values().cloned().collect();
        for g in grants {
            self.deliver_grant(link, &g);
        }
    }

    /// Handles `msg` on a live connection.
    pub fn handle(&mut self, link: &Link, msg: ToProvider) {
        match msg {
            ToProvider::Grant(g) => {
                self.deliver_grant(link, &g);
                self.grants.insert(g.grant, g);
            }
            ToProvider::Revoke { grant, reason } => {
                if self.grants.remove(&grant).is_some() && link.knows_message(REVOKE_ID) {
                    let _ = link.send(Message::Revoke(Revoke { grant, reason }));
                }
            }
            ToProvider::Command {
                command,
                body,
                reply,
            } => {
                let request_id = self.next_request;
                self.next_request = self.next_request.wrapping_add(1).max(1);
                match link.send(Message::Custom(Custom {
                    request_id,
                    command,
                    body,
                })) {
                    Ok(()) => {
                        self.pending.retain(|_, tx| !tx.is_closed());
                        self.pending.insert(request_id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(CommandError::Undeliverable(
                            self.name.to_string(),
                            format!("{e:?}"),
                        )));
                    }
                }
            }
        }
    }

    /// Resolves a pending command with the provider's `CustomReply`.
    pub fn replied(&mut self, request_id: u32, body: String) -> bool {
        match self.pending.remove(&request_id) {
            Some(tx) => {
                let _ = tx.send(Ok(body));
                true
            }
            None => false,
        }
    }

    /// Resolves a pending command with the provider's `Error`; `false` if
    /// `request_id` is not a pending command.
    pub fn refused(&mut self, request_id: u32, code: ErrorCode, message: String) -> bool {
        match self.pending.remove(&request_id) {
            Some(tx) => {
                let _ = tx.send(Err(CommandError::Refused {
                    code: code.0,
                    message,
                }));
                true
            }
            None => false,
        }
    }

    /// The connection ended: pending commands fail.
    pub fn disconnected(&mut self) {
        for (_, tx) in self.pending.drain() {
            let _ = tx.send(Err(CommandError::NoReply(self.name.to_string())));
        }
        self.socket = None;
    }

    fn deliver_grant(&self, link: &Link, g: &ActiveGrant) {
        if !link.knows_message(GRANT_ID) {
            tracing::warn!(
                provider = &*self.name,
                device = g.name,
                "provider's protocol predates grants; device not passed"
            );
            return;
        }
        let Some(sock) = &self.socket else {
            tracing::warn!(
                provider = &*self.name,
                device = g.name,
                "no grant socket (provider not started by the core); device not passed"
            );
            return;
        };
        // The fd goes first so it is waiting when the provider reads the message.
        if let Err(e) = crate::grants::open::send_fd(sock.as_fd(), g.grant, g.fd.as_fd()) {
            tracing::error!(
                provider = &*self.name,
                device = g.name,
                "cannot pass the device: {e}"
            );
            return;
        }
        if let Err(e) = link.send(Message::Grant(Grant {
            grant: g.grant,
            name: g.name.clone(),
            attributes: g.attributes.clone(),
        })) {
            tracing::error!(
                provider = &*self.name,
                device = g.name,
                "cannot announce the grant: {e:?}"
            );
        } else {
            tracing::info!(
                provider = &*self.name,
                device = g.name,
                grant = g.grant,
                "device granted"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_ids_match_the_protocol() {
        let names = igloo_protocol::MESSAGE_NAMES;
        assert_eq!(names[usize::from(super::GRANT_ID)], "Grant");
        assert_eq!(names[usize::from(super::REVOKE_ID)], "Revoke");
    }
}
