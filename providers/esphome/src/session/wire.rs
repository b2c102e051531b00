//! Messages on one device connection: sending, reading and decoding frames,
//! the answers to the requests a device may send at any time (ping, time),
//! and a clean disconnect.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::Framed;

use super::{ErrorKind, Failure};
use crate::api::frame::{ApiCodec, Frame};
use crate::api::proto::{self, ApiMessage, Incoming, Outgoing};

/// A framed connection to a device (plaintext or Noise).
pub(super) type Conn = Framed<TcpStream, ApiCodec>;

/// Encodes and sends one message.
pub(super) async fn send<M: ApiMessage>(conn: &mut Conn, m: &M) -> Result<(), Failure> {
    conn.send(Outgoing::encode(m)).await.map_err(Failure::from)
}

/// Answers `msg` when it is one of the requests a device may send at any
/// time, during login as while connected: `PingRequest` ([`answer_ping`]) or
/// `GetTimeRequest` ([`answer_time`]). `Ok(true)` when it was one (and was
/// answered), `Ok(false)` for any other message.
pub(super) async fn answer_request(conn: &mut Conn, msg: &Incoming) -> Result<bool, Failure> {
    match msg {
        Incoming::PingRequest => answer_ping(conn).await?,
        Incoming::GetTimeRequest => answer_time(conn).await?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The answer to the device's `PingRequest`.
async fn answer_ping(conn: &mut Conn) -> Result<(), Failure> {
    send(conn, &proto::PingResponse::default()).await
}

/// The answer to the device's `GetTimeRequest`: our clock in Unix seconds
/// (0 before 1970, saturated after 2106).
async fn answer_time(conn: &mut Conn) -> Result<(), Failure> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let reply = proto::GetTimeResponse {
        epoch_seconds: u32::try_from(secs).unwrap_or(u32::MAX),
    };
    send(conn, &reply).await
}

/// The next frame; the connection closing is a [`ErrorKind::Closed`] failure
/// "during login" (after login the caller reads the stream itself).
pub(super) async fn next_frame(conn: &mut Conn) -> Result<Frame, Failure> {
    match conn.next().await {
        Some(Ok(f)) => Ok(f),
        Some(Err(e)) => Err(e.into()),
        None => Err(Failure::new(
            ErrorKind::Closed,
            "the device closed the connection during login",
        )),
    }
}

/// Decodes a frame; an undecodable one is a [`ErrorKind::Protocol`] failure.
pub(super) fn decode(frame: &Frame) -> Result<Incoming, Failure> {
    proto::decode(frame.msg_type, &frame.payload).map_err(|e| {
        Failure::new(
            ErrorKind::Protocol,
            format!(
                "undecodable {} (message type {}): {e}",
                proto::message_name(frame.msg_type).unwrap_or("message"),
                frame.msg_type
            ),
        )
    })
}

/// Reads until `pick` takes a message (returns `Some`), answering pings
/// and time requests meanwhile. A `DisconnectRequest` ends the login.
pub(super) async fn expect<T>(
    conn: &mut Conn,
    pick: impl Fn(&mut Incoming) -> Option<T>,
) -> Result<T, Failure> {
    loop {
        let frame = next_frame(conn).await?;
        let mut msg = decode(&frame)?;
        if let Some(v) = pick(&mut msg) {
            return Ok(v);
        }
        if answer_request(conn, &msg).await? {
            continue;
        }
        if let Incoming::DisconnectRequest(_) = msg {
            return Err(Failure::new(
                ErrorKind::Closed,
                "the device disconnected during login",
            ));
        }
    }
}

/// DisconnectRequest, then wait up to 1 s for the answer.
pub(super) async fn disconnect(conn: &mut Conn) {
    if send(conn, &proto::DisconnectRequest::default())
        .await
        .is_err()
    {
        return;
    }
    let _ = timeout(Duration::from_secs(1), async {
        while let Some(Ok(f)) = conn.next().await {
            if matches!(decode(&f), Ok(Incoming::DisconnectResponse)) {
                break;
            }
        }
    })
    .await;
}

/// The variant name of a message, for logs (`ListEntitiesCameraResponse`).
pub(super) fn kind_name(m: &Incoming) -> String {
    let text = format!("{m:?}");
    text.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use tokio::net::TcpListener;

    use super::*;
    use crate::api::frame::Framing;

    /// Both ends of a loopback TCP connection, framed in plaintext: ours
    /// and the device's.
    async fn pair() -> (Conn, Conn) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (ours, device) = tokio::join!(TcpStream::connect(address), listener.accept());
        let framed = |s| Framed::new(s, ApiCodec::new(Framing::Plaintext));
        (
            framed(ours.expect("connect")),
            framed(device.expect("accept").0),
        )
    }

    /// Sends `M` from the device, reads it on our side and lets
    /// [`answer_request`] see it.
    async fn device_sends<M: ApiMessage + Default>(ours: &mut Conn, device: &mut Conn) -> bool {
        send(device, &M::default()).await.expect("device sends");
        let msg = decode(&next_frame(ours).await.expect("frame")).expect("decodes");
        answer_request(ours, &msg).await.expect("answer")
    }

    /// The next frame the device gets (a guard turns a missing answer into
    /// a failure instead of a hang).
    async fn device_reads(device: &mut Conn) -> Frame {
        timeout(Duration::from_secs(10), device.next())
            .await
            .expect("an answer")
            .expect("open")
            .expect("frame")
    }

    #[tokio::test]
    async fn pings_and_time_requests_are_answered_and_nothing_else() {
        let (mut ours, mut device) = pair().await;

        assert!(device_sends::<proto::PingRequest>(&mut ours, &mut device).await);
        let reply = device_reads(&mut device).await;
        assert_eq!(reply.msg_type, <proto::PingResponse as ApiMessage>::TYPE);

        let before = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        assert!(device_sends::<proto::GetTimeRequest>(&mut ours, &mut device).await);
        let after = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        let reply = device_reads(&mut device).await;
        assert_eq!(reply.msg_type, <proto::GetTimeResponse as ApiMessage>::TYPE);
        let time = proto::GetTimeResponse::decode(reply.payload).expect("decodes");
        let epoch = u64::from(time.epoch_seconds);
        assert!((before.as_secs()..=after.as_secs()).contains(&epoch));

        // Not a request: no answer. The next frame the device gets is the
        // answer to its next ping.
        assert!(!device_sends::<proto::ListEntitiesDoneResponse>(&mut ours, &mut device).await);
        assert!(device_sends::<proto::PingRequest>(&mut ours, &mut device).await);
        let reply = device_reads(&mut device).await;
        assert_eq!(reply.msg_type, <proto::PingResponse as ApiMessage>::TYPE);
    }
}
