//! What the end-to-end tests share: a fixture, an in-process server on port 0, and a tiny
//! HTTP/1.1 client over a real TCP connection (one request per connection, raw bytes, so
//! malformed header values can be sent as they are).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dam_core::{Fixture, ImageService, ServiceConfig};
use dam_server::cli::StoreChoice;
use dam_server::startup::open_store;
use dam_server::{AppConfig, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ACME_KEY: &str = "acme-key-1";
pub const GLOBEX_KEY: &str = "globex-key-1";
/// One HTTP response ([`Reply`]), a page's ids, the problem `type` base.
#[allow(unused_imports)] // each test binary uses a part
pub use dam_store_tests::reply::{ids, Reply, TYPE_BASE};

/// Two tenants. acme: ids 1–7 (3 is `Up`, 4 is `Re`); globex: ids 100–102 (101 is `Up`).
pub const FIXTURE: &str = r#"{ "tenants": [
  { "name": "acme", "apiKeys": ["acme-key-1", "acme-key-2"], "images": [
    { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok", "numLinks": 3,
      "createdOn": "2024-04-05T08:44:33", "tags": ["red"] },
    { "id": 2, "reference": "b.png", "fileType": "png", "status": "Vd",
      "createdOn": "2024-04-06T08:44:33" },
    { "id": 3, "reference": "c.jpg", "fileType": "jpg", "status": "Up",
      "createdOn": "2024-04-07T08:44:33" },
    { "id": 4, "reference": "d.gif", "fileType": "gif", "status": "Re",
      "createdOn": "2024-04-08T08:44:33" },
    { "id": 5, "reference": "e.jpg", "fileType": "jpg", "status": "Er",
      "createdOn": "2024-04-09T08:44:33" },
    { "id": 6, "reference": "f.webp", "fileType": "webp", "status": "Ok",
      "createdOn": "2024-04-10T08:44:33", "originalUrl": "https://cdn.example.com/f.webp",
      "width": 640, "height": 480, "sizeInBytes": 12345 },
    { "id": 7, "reference": "g.jpg", "fileType": "jpg", "status": "Ok",
      "createdOn": "2024-04-11T08:44:33", "modifiedOn": "2024-05-01T00:00:00" } ] },
  { "name": "globex", "apiKeys": ["globex-key-1"], "images": [
    { "id": 100, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
      "createdOn": "2024-01-01T00:00:00" },
    { "id": 101, "reference": "busy.jpg", "fileType": "jpg", "status": "Up",
      "createdOn": "2024-01-01T00:00:00" },
    { "id": 102, "reference": "z.svg", "fileType": "svg", "status": "Ok",
      "createdOn": "2024-01-01T00:00:00" } ] } ] }"#;

/// The ids of acme's images, in order.
pub const ACME_IDS: [i64; 7] = [1, 2, 3, 4, 5, 6, 7];

/// A unique scratch directory under the system's temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dam-server-test-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
}

/// A server running in this process on a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _scratch: Scratch,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, ServiceConfig::default(), Limits::default()).await
    }

    pub async fn start_with(backend: Backend, config: ServiceConfig, limits: Limits) -> TestServer {
        let app = AppConfig {
            limits,
            ..AppConfig::default()
        };
        TestServer::start_app(backend, config, app).await
    }

    /// A server with the application's own configuration (base path, `Retry-After`).
    pub async fn start_app(backend: Backend, config: ServiceConfig, app: AppConfig) -> TestServer {
        let scratch = Scratch::new("inproc");
        let choice = match backend {
            Backend::Memory => StoreChoice::Memory,
            Backend::Sqlite => StoreChoice::Sqlite {
                path: scratch.path("dam.sqlite3"),
                list_cache_pages: None,
            },
        };
        let stores = open_store(&choice).await.expect("open store");
        let fixture = Fixture::from_json(FIXTURE).expect("fixture");
        stores.seed.load_fixture(&fixture).await.expect("load");
        let service = ImageService::with_config(stores.images, stores.keys, config);
        TestServer::serve(service, app, scratch).await
    }

    /// A server over `service` (whatever its stores), `scratch` removed when it is dropped.
    pub async fn serve(service: ImageService, app: AppConfig, scratch: Scratch) -> TestServer {
        let limits = app.limits.clone();
        let app = dam_server::app(service, &app);
        let listener = dam_server::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            dam_server::serve(listener, app, &limits, async {
                let _ = rx.await;
            })
            .await
        });
        TestServer {
            addr,
            shutdown: Some(tx),
            task: Some(task),
            _scratch: scratch,
        }
    }

    pub async fn get(&self, target: &str, key: Option<&str>) -> Reply {
        request(self.addr, "GET", target, key.map(str::as_bytes)).await
    }

    pub async fn delete(&self, id: &str, key: Option<&str>) -> Reply {
        request(
            self.addr,
            "DELETE",
            &format!("/image/{id}"),
            key.map(str::as_bytes),
        )
        .await
    }

    /// Stops the server and waits for it to return.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server stops within 15 s");
            result.expect("server task").expect("serve returns Ok");
        }
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
pub async fn request(addr: SocketAddr, method: &str, target: &str, key: Option<&[u8]>) -> Reply {
    let headers: Vec<(&str, &[u8])> = key.map(|key| ("X-API-KEY", key)).into_iter().collect();
    request_with(addr, method, target, &headers).await
}

/// Sends a request with these extra header lines (`Name: value`, as they are) on a fresh
/// connection.
pub async fn request_with(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
) -> Reply {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    raw(addr, &head).await
}

/// Sends raw bytes and parses the answer.
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // The server may answer and close before reading all of an oversized request: a
        // failed write, or a reset after the answer, still leaves the answer to read.
        let _ = stream.write_all(bytes).await;
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if answer.is_empty() => panic!("no answer: {e}"),
                Err(_) => break,
            }
        }
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("an answer within 20 s");
    parse(&answer)
}

fn parse(answer: &[u8]) -> Reply {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(answer)));
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = answer[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
