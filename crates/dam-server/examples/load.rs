//! A load check of `dam-server` on loopback (not part of CI): a mixed workload of lists and
//! deletes over keep-alive HTTP/1.1 connections for a fixed time, reporting requests per
//! second, latency percentiles, the statuses seen and the count of 5xx.
//!
//! By default it starts the server itself (`--server`, a SQLite database in a temp directory
//! loaded with a generated fixture of `--images` images) and stops it at the end:
//!
//! ```text
//! cargo build --release -p dam-server --example load
//! target/release/examples/load --server target/release/dam-server --duration 30
//! ```
//!
//! With `--url http://127.0.0.1:PORT --key KEY` it loads a server that is already running
//! (only ever a loopback address). Exit code 1 when any 5xx or transport error was seen.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
#[command(about = "Mixed list/delete load against dam-server on loopback")]
struct Args {
    /// The dam-server binary to start (SQLite store in a temp directory).
    #[arg(long, default_value = "target/release/dam-server")]
    server: PathBuf,
    /// Load a running server instead (loopback only), e.g. http://127.0.0.1:8080.
    #[arg(long, requires = "key")]
    url: Option<String>,
    /// The API key for --url.
    #[arg(long)]
    key: Option<String>,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Images in the generated fixture (when starting the server).
    #[arg(long, default_value_t = 20_000)]
    images: u64,
    /// Start the server with --memory instead of a SQLite file (to tell server from store).
    #[arg(long)]
    memory: bool,
    /// Percentage of requests that are deletes.
    #[arg(long, default_value_t = 20)]
    delete_percent: u64,
}

const LOAD_KEY: &str = "load-key-0123456789";

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    statuses: std::collections::BTreeMap<u16, u64>,
    transport_errors: u64,
    lists: u64,
    deletes: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut started: Option<(Child, PathBuf)> = None;
    let (addr, key) = match &args.url {
        Some(url) => match loopback(url) {
            Some(addr) => (addr, args.key.clone().unwrap_or_default()),
            None => {
                eprintln!("--url must be http://127.x.x.x:PORT or http://[::1]:PORT");
                return std::process::ExitCode::from(2);
            }
        },
        None => match start_server(&args) {
            Ok((child, dir, addr)) => {
                started = Some((child, dir));
                (addr, LOAD_KEY.to_string())
            }
            Err(e) => {
                eprintln!("cannot start {}: {e}", args.server.display());
                return std::process::ExitCode::from(2);
            }
        },
    };

    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let began = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|w| {
            let key = key.clone();
            let per_worker = args.images / args.connections.max(1) as u64;
            let first_id = 1 + w as u64 * per_worker;
            let ids = first_id..first_id + per_worker;
            let delete_percent = args.delete_percent;
            let images = args.images;
            tokio::spawn(async move {
                worker(addr, key, w as u64, ids, images, delete_percent, deadline).await
            })
        })
        .collect();
    let mut total = Tally::default();
    for w in workers {
        if let Ok(t) = w.await {
            total.latencies_us.extend(t.latencies_us);
            for (s, n) in t.statuses {
                *total.statuses.entry(s).or_default() += n;
            }
            total.transport_errors += t.transport_errors;
            total.lists += t.lists;
            total.deletes += t.deletes;
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    if let Some((mut child, dir)) = started {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }

    total.latencies_us.sort_unstable();
    let n = total.latencies_us.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        f64::from(total.latencies_us[i]) / 1000.0
    };
    let server_errors: u64 = total
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    println!(
        "{} requests in {:.1} s over {} connections ({} lists, {} deletes)",
        n, elapsed, args.connections, total.lists, total.deletes
    );
    println!("throughput: {:.0} requests/s", n as f64 / elapsed);
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    let statuses: Vec<String> = total
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!("statuses: {}", statuses.join(", "));
    println!(
        "5xx: {server_errors}, transport errors: {}",
        total.transport_errors
    );
    if server_errors > 0 || total.transport_errors > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

/// The socket address of a loopback URL, or None for anything else.
fn loopback(url: &str) -> Option<SocketAddr> {
    let rest = url.strip_prefix("http://")?.trim_end_matches('/');
    let addr: SocketAddr = rest.parse().ok()?;
    addr.ip().is_loopback().then_some(addr)
}

/// One keep-alive connection issuing requests until the deadline.
async fn worker(
    addr: SocketAddr,
    key: String,
    seed: u64,
    mut ids: std::ops::Range<u64>,
    images: u64,
    delete_percent: u64,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sender = None;
    while Instant::now() < deadline {
        let roll = next() % 100;
        let target = if roll < delete_percent && !ids.is_empty() {
            tally.deletes += 1;
            let id = ids.next().unwrap_or(1);
            (hyper::Method::DELETE, format!("/image/{id}"))
        } else {
            tally.lists += 1;
            let skip = next() % images.max(1);
            let target = match next() % 5 {
                0 => "/image?$top=20".to_string(),
                1 => format!("/image?$top=50&$skip={skip}&$count=true"),
                2 => "/image?$orderby=createdOn%20desc&$top=10".to_string(),
                3 => format!("/image?$orderby=numLinks%20desc,reference&$top=25&$skip={skip}"),
                _ => "/image?$filter=fileType%20eq%20'png'%20and%20numLinks%20gt%205&$top=20"
                    .to_string(),
            };
            (hyper::Method::GET, target)
        };
        if sender.is_none() {
            sender = connect(addr).await;
            if sender.is_none() {
                tally.transport_errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let request = Request::builder()
            .method(target.0)
            .uri(target.1)
            .header("host", addr.to_string())
            .header("x-api-key", &key)
            .body(Empty::<Bytes>::new());
        let Ok(request) = request else {
            tally.transport_errors += 1;
            continue;
        };
        let started = Instant::now();
        let outcome = async {
            let response = s.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            Ok::<u16, hyper::Error>(status)
        }
        .await;
        match outcome {
            Ok(status) => {
                let us = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(us);
                *tally.statuses.entry(status).or_default() += 1;
            }
            Err(_) => {
                tally.transport_errors += 1;
                sender = None;
            }
        }
    }
    tally
}

async fn connect(addr: SocketAddr) -> Option<http1::SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// Writes a fixture of `images` images (every tenth `Up`, so some deletes are 409), starts the
/// server on a SQLite file in a temp directory, and reads its address.
fn start_server(args: &Args) -> Result<(Child, PathBuf, SocketAddr), String> {
    let dir = std::env::temp_dir().join(format!("dam-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let fixture = dir.join("fixture.json");
    std::fs::write(&fixture, fixture_json(args.images)).map_err(|e| e.to_string())?;
    let mut command = Command::new(&args.server);
    command.arg("--listen").arg("127.0.0.1:0");
    if args.memory {
        command.arg("--memory");
    } else {
        command.arg("--database").arg(dir.join("dam.sqlite3"));
    }
    let mut child = command
        .arg("--fixtures")
        .arg(&fixture)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("unexpected first line {line:?}"))?;
    Ok((child, dir, addr))
}

fn fixture_json(images: u64) -> String {
    const TYPES: [&str; 5] = ["jpg", "png", "webp", "gif", "tif"];
    const STATUSES: [&str; 10] = ["Ok", "Ok", "Ok", "Vd", "Ok", "Er", "Ok", "Ok", "Ok", "Up"];
    let mut out =
        format!(r#"{{ "tenants": [ {{ "name": "load", "apiKeys": ["{LOAD_KEY}"], "images": ["#);
    for id in 1..=images {
        if id > 1 {
            out.push(',');
        }
        let file_type = TYPES[(id % 5) as usize];
        let day = 1 + id % 28;
        let hour = id % 24;
        out.push_str(&format!(
            r#"{{"id":{id},"reference":"image-{id}.{file_type}","fileType":"{file_type}","status":"{}","numLinks":{},"createdOn":"2024-{:02}-{day:02}T{hour:02}:00:00","tags":["t{}"],"width":{},"height":{},"sizeInBytes":{}}}"#,
            STATUSES[(id % 10) as usize],
            id * 7 % 23,
            1 + id % 12,
            id % 9,
            640 + id % 5 * 160,
            480 + id % 4 * 120,
            10_000 + id * 37 % 90_000,
        ));
    }
    out.push_str("] } ] }");
    out
}
