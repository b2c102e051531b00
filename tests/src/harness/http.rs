//! A file server on the host for downloads by the core or a QEMU guest
//! (which reaches the host's loopback as 10.0.2.2): axum with tower-http's
//! `ServeDir` (Range requests included), plus routes that fail the way real
//! servers and networks do. Runs on its own thread; stops when dropped.
//!
//! - `/files/<name>`: the file, with `Range` support.
//! - `/drop/<name>`: announces the whole file (`Content-Length`) and closes
//!   the connection after half of it, every time.
//! - `/drop-once/<name>`: the first request is answered as `/drop/<name>`;
//!   later ones get the file, honouring `Range: bytes=N-` (206), as a server
//!   does after a network hiccup.
//! - anything else: 404.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

/// A running file server.
pub struct FileServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct Shared {
    dir: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    /// Names `/drop-once/` has dropped already.
    dropped: Arc<Mutex<HashSet<String>>>,
}

impl FileServer {
    /// Serves `dir` on 127.0.0.1 (a free port).
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime cannot start.
    pub fn start(dir: &Path) -> FileServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind the file server: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("file server address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("file server socket: {e}"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            dir: dir.to_path_buf(),
            requests: requests.clone(),
            dropped: Arc::default(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("file server runtime: {e}"));
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .unwrap_or_else(|e| panic!("file server listener: {e}"));
                let log = shared.requests.clone();
                let app = Router::new()
                    .nest_service("/files", ServeDir::new(&shared.dir))
                    .route("/drop/{name}", get(drop_half_way))
                    .route("/drop-once/{name}", get(drop_once))
                    .with_state(shared)
                    .layer(axum::middleware::from_fn(
                        move |req: axum::extract::Request, next: axum::middleware::Next| {
                            let log = log.clone();
                            async move {
                                let range = req
                                    .headers()
                                    .get(header::RANGE)
                                    .and_then(|v| v.to_str().ok())
                                    .map(|r| format!(" {r}"))
                                    .unwrap_or_default();
                                if let Ok(mut l) = log.lock() {
                                    l.push(format!("{} {}{range}", req.method(), req.uri()));
                                }
                                next.run(req).await
                            }
                        },
                    ));
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        FileServer {
            addr,
            requests,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://<host>:<port><path>`: `host` is `127.0.0.1` for the host
    /// itself, `10.0.2.2` for a QEMU guest with user networking.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// The requests so far: `GET /files/x bytes=100-` (method, URI, Range).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The bytes of file `name` in the served dir (no paths out of it).
async fn read_served(s: &Shared, name: &str) -> Option<Vec<u8>> {
    if name.contains('/') || name.contains("..") {
        return None;
    }
    tokio::fs::read(s.dir.join(name)).await.ok()
}

/// `/drop/<name>`: the headers of the whole file, half of its bytes, then
/// the connection ends (a body stream error makes hyper close it).
async fn drop_half_way(
    State(s): State<Shared>,
    UrlPath(name): UrlPath<String>,
    _headers: HeaderMap,
) -> Response {
    let Some(bytes) = read_served(&s, &name).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    half_then_drop(bytes)
}

/// `/drop-once/<name>`: dropped half-way the first time, then served with
/// `Range: bytes=N-` honoured.
async fn drop_once(
    State(s): State<Shared>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(bytes) = read_served(&s, &name).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let first = s
        .dropped
        .lock()
        .map(|mut d| d.insert(name))
        .unwrap_or(false);
    if first {
        return half_then_drop(bytes);
    }
    let from = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < bytes.len());
    let total = bytes.len();
    let response = match from {
        Some(n) => Response::builder()
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {n}-{}/{total}", total - 1),
            )
            .body(Body::from(bytes[n..].to_vec())),
        None => Response::builder().body(Body::from(bytes)),
    };
    response.unwrap_or_else(|e| panic!("response: {e}"))
}

/// The headers of the whole of `bytes`, half of them, then the connection
/// ends. The end waits until the half is sent (hyper drops what it has not
/// written yet when the body fails), as a connection that breaks mid-way.
fn half_then_drop(bytes: Vec<u8>) -> Response {
    use futures::StreamExt;
    let total = bytes.len();
    let half = bytes[..total / 2].to_vec();
    let sent = futures::stream::iter([Ok::<_, std::io::Error>(half)]);
    let broken = futures::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the test server drops the connection half-way",
        ))
    });
    let body = Body::from_stream(sent.chain(broken));
    Response::builder()
        .header(header::CONTENT_LENGTH, total)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(body)
        .unwrap_or_else(|e| panic!("response: {e}"))
}
