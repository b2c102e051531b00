use igloo_protocol::{ErrorCode, FrameError, HandshakeError};

/// Errors of the provider SDK.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// Neither `IGLOO_FD` nor `IGLOO_SOCKET` is set, or `IGLOO_FD` is not a number.
    #[error("no connection to the core: {0} (start the provider from igloo, or set IGLOO_SOCKET)")]
    NoConnection(String),
    /// Socket error; also what requests in flight get when a malformed frame
    /// from the core ended the connection (`InvalidData`, naming the frame error).
    #[error("core connection: {0}")]
    Io(#[from] std::io::Error),
    /// A frame could not be encoded or decoded.
    #[error("core connection: {0}")]
    Frame(#[from] FrameError),
    /// The core refused the handshake or answered out of order.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The core replied with an error to a request.
    #[error("core refused the request (code {}): {message}", code.0)]
    Refused {
        /// Error code.
        code: ErrorCode,
        /// The core's explanation.
        message: String,
    },
    /// The connection to the core is closed.
    #[error("the core closed the connection")]
    Closed,
    /// The provider's config section does not fit the provider's config type.
    #[error("provider config: {0}")]
    Config(String),
}
