//! A file server on the host for downloads by the core or a QEMU guest
//! (which reaches the host's loopback as 10.0.2.2): axum with tower-http's
//! `ServeDir` (Range requests included), plus routes that fail the way real
//! servers and networks do. Runs on its own thread; stops when dropped.
//!
//! - `/files/<name>`: the file, with `Range` support.
//! - `/drop/<name>`: announces the whole file (`Content-Length`) and closes
//!   the connection after half of it, every time.
//! - anything else: 404.

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

/// `/drop/<name>`: the headers of the whole file, half of its bytes, then
/// the connection ends (a body stream error makes hyper close it).
async fn drop_half_way(
    State(s): State<Shared>,
    UrlPath(name): UrlPath<String>,
    _headers: HeaderMap,
) -> Response {
    if name.contains('/') || name.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(bytes) = tokio::fs::read(s.dir.join(&name)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let total = bytes.len();
    let half = bytes[..total / 2].to_vec();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the test server drops the connection half-way",
        )),
    ];
    let body = Body::from_stream(futures::stream::iter(chunks));
    Response::builder()
        .header(header::CONTENT_LENGTH, total)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(body)
        .unwrap_or_else(|e| panic!("response: {e}"))
}
