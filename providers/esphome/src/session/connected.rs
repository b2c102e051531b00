//! A logged-in connection serving states: [`Connected`] handles one event at
//! a time — a frame from the device ([`Connected::on_frame`]), a command from
//! the manager ([`Connected::on_command`]) or a keep-alive tick
//! ([`Connected::on_tick`]) — and [`Connected::serve`] only dispatches them.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use igloo_provider::EntityId;
use igloo_provider::protocol::Component;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::login::Entities;
use super::wire::{self, Conn, send};
use super::{Command, End, ErrorKind, Failure, KEEPALIVE_TIMEOUT_RATIO, Session};
use crate::api::frame::{Frame, FrameError};
use crate::api::proto::{self, Incoming};
use crate::entities;

/// What one event did: `Err(end)` ends the connection.
type Step = Result<(), End>;

/// The connection was lost after states were served.
fn lost(failure: Failure) -> End {
    End::Lost {
        failure,
        served: true,
    }
}

/// One connection from the subscription to states until it ends.
pub(super) struct Connected<'s> {
    session: &'s mut Session,
    conn: Conn,
    entities: Entities,
    /// Ping an idle connection after this long.
    keepalive: Duration,
    /// Give up on a device silent this long.
    silence_limit: Duration,
    /// When the device last sent something.
    last_rx: Instant,
    /// When we last sent something.
    last_tx: Instant,
}

impl<'s> Connected<'s> {
    pub(super) fn new(session: &'s mut Session, conn: Conn, entities: Entities) -> Self {
        let keepalive = session.settings.keepalive;
        Connected {
            session,
            conn,
            entities,
            keepalive,
            silence_limit: keepalive.mul_f64(KEEPALIVE_TIMEOUT_RATIO),
            last_rx: Instant::now(),
            last_tx: Instant::now(),
        }
    }

    /// Streams states until the connection ends. Ticks every `keepalive`,
    /// clamped to 100 ms … 1 s.
    pub(super) async fn serve(mut self, rx: &mut mpsc::Receiver<Command>) -> End {
        let mut tick = tokio::time::interval(
            self.keepalive
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(100)),
        );
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                frame = self.conn.next() => self.on_frame(frame).await,
                cmd = rx.recv() => self.on_command(cmd).await,
                _ = tick.tick() => self.on_tick().await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// A frame (or the end of the stream) from the device: pings and time
    /// requests are answered, a disconnect request acknowledged and the
    /// connection ended, states written to the core.
    async fn on_frame(&mut self, frame: Option<Result<Frame, FrameError>>) -> Step {
        let frame = match frame {
            None => {
                return Err(lost(Failure::new(
                    ErrorKind::Closed,
                    "the device closed the connection",
                )));
            }
            Some(frame) => frame.map_err(|e| lost(e.into()))?,
        };
        self.last_rx = Instant::now();
        let msg = wire::decode(&frame).map_err(lost)?;
        if wire::answer_request(&mut self.conn, &msg)
            .await
            .map_err(lost)?
        {
            self.last_tx = Instant::now();
            return Ok(());
        }
        if let Incoming::DisconnectRequest(_) = msg {
            let _ = send(&mut self.conn, &proto::DisconnectResponse::default()).await;
            return Err(lost(Failure::new(
                ErrorKind::Closed,
                "the device disconnected (rebooting or shutting down)",
            )));
        }
        self.on_state(&msg).await
    }

    /// Writes a state message's values to the core; the core gone ends the
    /// session.
    async fn on_state(&mut self, msg: &Incoming) -> Step {
        let Some(key) = entities::state_key(msg) else {
            return Ok(());
        };
        let Some((id, info)) = self.entities.by_key.get(&key) else {
            tracing::debug!(device = %self.session.name(), key, "state for an unknown entity key");
            return Ok(());
        };
        let values = entities::state(info, msg);
        if !values.is_empty()
            && self
                .session
                .provider
                .write(self.entities.device, *id, values)
                .await
                .is_err()
        {
            return Err(End::Stopped);
        }
        Ok(())
    }

    /// A command from the manager (`None`: the manager is gone).
    async fn on_command(&mut self, cmd: Option<Command>) -> Step {
        match cmd {
            None | Some(Command::Stop) => {
                wire::disconnect(&mut self.conn).await;
                Err(End::Stopped)
            }
            Some(Command::SetKey(key)) => {
                let changed = self.session.set_key(key);
                if changed {
                    wire::disconnect(&mut self.conn).await;
                    return Err(End::Restart);
                }
                Ok(())
            }
            Some(Command::Seen(ep)) => {
                if ep != self.session.endpoint {
                    tracing::info!(device = %self.session.name(), from = %self.session.endpoint, to = %ep, "the device moved");
                    self.session.set_endpoint(ep);
                }
                Ok(())
            }
            Some(Command::Change { entity, values }) => self.on_change(entity, &values).await,
        }
    }

    /// Sends the command messages for a change request; a request the
    /// entity cannot take is logged and refused to the core with the reason
    /// (a user waiting in `igloo set` sees it).
    async fn on_change(&mut self, entity: EntityId, values: &[Component]) -> Step {
        let Some(info) = self.entities.info(entity) else {
            tracing::warn!(device = %self.session.name(), entity, "change request for an unknown entity");
            return Ok(());
        };
        let messages = match entities::command(info, values) {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(device = %self.session.name(), entity = info.name, "change request refused: {e}");
                let reason = e.to_string();
                let device = self.entities.device;
                if self
                    .session
                    .provider
                    .refuse_change(device, entity, &reason)
                    .await
                    .is_err()
                {
                    return Err(End::Stopped);
                }
                return Ok(());
            }
        };
        for m in messages {
            self.conn.feed(m).await.map_err(|e| lost(e.into()))?;
        }
        self.conn.flush().await.map_err(|e| lost(e.into()))?;
        self.last_tx = Instant::now();
        Ok(())
    }

    /// Keep-alive: a device silent for `silence_limit` is gone; a connection
    /// idle both ways for `keepalive` gets a PingRequest.
    async fn on_tick(&mut self) -> Step {
        if self.last_rx.elapsed() > self.silence_limit {
            return Err(lost(Failure::new(
                ErrorKind::Timeout,
                format!(
                    "no data from the device for {:.0} s (keep-alive)",
                    self.silence_limit.as_secs_f64()
                ),
            )));
        }
        if self.last_rx.elapsed() >= self.keepalive && self.last_tx.elapsed() >= self.keepalive {
            send(&mut self.conn, &proto::PingRequest::default())
                .await
                .map_err(lost)?;
            self.last_tx = Instant::now();
        }
        Ok(())
    }
}
