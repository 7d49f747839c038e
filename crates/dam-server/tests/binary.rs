//! The built `dam-server` binary: its command line, the `listening on` line, start-up
//! refusals with exit code 2, graceful shutdown on SIGTERM, and logs that never hold a key.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dam_store_tests::scrape::Scrape;
use support::{request, Scratch, ACME_KEY, FIXTURE, GLOBEX_KEY};

const BINARY: &str = env!("CARGO_BIN_EXE_dam-server");

/// A running binary; its stdout after the `listening on` line is collected by a thread.
struct Running {
    child: Child,
    addr: SocketAddr,
    first_line: String,
    rest: mpsc::Receiver<String>,
}

impl Running {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Running {
        let mut command = Command::new(BINARY);
        command.args(args).envs(envs.iter().copied());
        Running::launch(command)
    }

    fn start_in(dir: &std::path::Path, args: &[&str]) -> Running {
        let mut command = Command::new(BINARY);
        command.args(args).current_dir(dir);
        Running::launch(command)
    }

    fn launch(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dam-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let Ok(first_line) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "no listening line; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let addr = first_line
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first stdout line {first_line:?}"));
        Running {
            child,
            addr,
            first_line,
            rest: rx,
        }
    }

    /// Sends SIGTERM, waits for the exit, and returns the exit code, the rest of stdout and
    /// all of stderr.
    fn terminate(mut self) -> (Option<i32>, String, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let rest: Vec<String> = self.rest.try_iter().collect();
        (code, rest.join("\n"), stderr)
    }
}

fn run_with_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(BINARY)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run dam-server")
}

/// Runs the binary to its end; asserts the exit `code` and that it printed nothing on stdout
/// (no listening line); returns stderr.
fn exits_with(code: i32, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = run_with_env(args, envs);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?} {envs:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} {envs:?}: no listening line"
    );
    stderr
}

fn write_fixture(scratch: &Scratch, name: &str, text: &str) -> String {
    let path = scratch.path(name);
    std::fs::write(&path, text).expect("write fixture");
    path.to_string_lossy().into_owned()
}

/// The binary on a memory store loaded with [`FIXTURE`], on a free port.
fn start_with_fixture(scratch: &Scratch, envs: &[(&str, &str)]) -> Running {
    let fixture = write_fixture(scratch, "f.json", FIXTURE);
    let args = [
        "--memory",
        "--listen",
        "127.0.0.1:0",
        "--fixtures",
        &fixture,
    ];
    Running::start(&args, envs)
}

/// `GET target` with `key`: asserts a 200 and returns the JSON body.
async fn get_ok(addr: SocketAddr, target: &str, key: &[u8]) -> serde_json::Value {
    let r = request(addr, "GET", target, Some(key)).await;
    assert_eq!(r.status, 200, "{target}: {}", r.text());
    r.json()
}

#[tokio::test]
async fn prints_one_listening_line_with_the_real_port_and_stops_on_sigterm() {
    let scratch = Scratch::new("listen");
    let server = start_with_fixture(&scratch, &[]);
    assert!(server
        .first_line
        .starts_with("listening on http://127.0.0.1:"));
    assert_ne!(server.addr.port(), 0);
    let page = get_ok(server.addr, "/image?$count=true", ACME_KEY.as_bytes()).await;
    assert_eq!(page["@count"], 7);
    let (code, rest, _stderr) = server.terminate();
    assert_eq!(code, Some(0), "graceful exit");
    assert_eq!(rest, "", "stdout holds only the listening line");
}

#[test]
fn help_documents_every_option() {
    let out = run_with_env(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "--database",
        "--memory",
        "--fixtures",
        "--demo",
        "--problem-type-base",
        "--base-path",
        "--retry-after",
        "--rate-limit",
        "DAM_POSTGRES",
        "DAM_BASE_PATH",
        "127.0.0.1:8080",
        "dam.sqlite3",
        "demo-key",
    ] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
}

#[test]
fn exclusive_options_are_refused_with_exit_code_2() {
    let scratch = Scratch::new("exclusive");
    let fixture = write_fixture(&scratch, "f.json", FIXTURE);
    for args in [
        vec!["--memory", "--fixtures", &fixture, "--demo"],
        vec!["--memory", "--database", "x.sqlite3"],
        vec!["--memory", "--listen", "not-an-address"],
    ] {
        let stderr = exits_with(2, &args, &[]);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_bad_fixture_file_is_refused_with_a_clear_message_and_exit_code_2() {
    let scratch = Scratch::new("badfix");
    let duplicate = FIXTURE.replace("\"id\": 2,", "\"id\": 1,");
    let cases = [
        ("not-json.json", "{ not json".to_string(), "not valid"),
        ("duplicate.json", duplicate, "image id 1 is given twice"),
        (
            "unknown-field.json",
            r#"{ "tenants": [], "colour": 1 }"#.to_string(),
            "colour",
        ),
    ];
    for (name, text, needle) in cases {
        let path = write_fixture(&scratch, name, &text);
        let args = ["--memory", "--listen", "127.0.0.1:0", "--fixtures", &path];
        let stderr = exits_with(2, &args, &[]);
        assert!(stderr.contains(&path), "{name}: names the file: {stderr}");
        assert!(stderr.contains(needle), "{name}: says what: {stderr}");
        assert!(!stderr.contains(ACME_KEY), "{name}: no key in the message");
    }
    let missing = scratch.path("missing.json").to_string_lossy().into_owned();
    let args = [
        "--memory",
        "--listen",
        "127.0.0.1:0",
        "--fixtures",
        &missing,
    ];
    assert!(exits_with(2, &args, &[]).contains(&missing));
}

#[test]
fn a_bad_base_path_or_retry_after_is_refused_with_exit_code_2() {
    for (args, needle) in [
        (vec!["--base-path", "dam/v2"], "starts with '/'"),
        (vec!["--base-path", "/dam/v2/"], "does not end with '/'"),
        (vec!["--base-path", "/"], "does not end with '/'"),
        (vec!["--base-path", "/dam?v=2"], "no query"),
        (vec!["--base-path", "/dam v2"], "letters, digits"),
        (vec!["--retry-after", "0"], "at least 1"),
        (vec!["--retry-after", "1.5"], "whole number"),
        (vec!["--rate-limit", "0"], "at least 1"),
    ] {
        let args = [&["--memory", "--listen", "127.0.0.1:0"][..], &args].concat();
        let stderr = exits_with(2, &args, &[]);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    exits_with(2, &["--memory"], &[("DAM_BASE_PATH", "nope")]);
}

/// Contract §8: every option is also `DAM_` + its name; the command line wins, also over an
/// option of the same exclusive set that the environment gives.
#[tokio::test]
async fn environment_variables_give_options_and_the_command_line_wins() {
    let scratch = Scratch::new("env");
    let fixture = write_fixture(&scratch, "f.json", FIXTURE);
    let server = Running::start(
        &["--memory", "--fixtures", &fixture, "--base-path", "/cli"],
        &[
            ("DAM_LISTEN", "127.0.0.1:0"),
            ("DAM_DEMO", "true"),
            ("DAM_BASE_PATH", "/env"),
            ("DAM_RETRY_AFTER", "9"),
            ("DAM_RATE_LIMIT", "1000"),
            // an option of the SQLite store only: set aside with --memory, not refused
            ("DAM_LIST_CACHE_PAGES", "4"),
            (
                "DAM_POSTGRES",
                "postgres://dam:pa55word@127.0.0.1:1/nowhere",
            ),
        ],
    );
    let page = get_ok(server.addr, "/cli/image?$count=true", ACME_KEY.as_bytes()).await;
    assert_eq!(page["@count"], 7);
    let r = request(server.addr, "GET", "/env/image", Some(ACME_KEY.as_bytes())).await;
    assert_eq!(r.status, 404);
    // --fixtures set DAM_DEMO aside
    let r = request(server.addr, "GET", "/cli/image", Some(b"demo-key")).await;
    assert_eq!(r.status, 401);
    let r = request(
        server.addr,
        "DELETE",
        "/cli/image/3",
        Some(ACME_KEY.as_bytes()),
    )
    .await;
    assert_eq!((r.status, r.header("retry-after")), (409, Some("9")));
    assert_eq!(r.header("ratelimit-policy"), Some("\"tenant\";q=1000;w=1"));
    let (code, _, stderr) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("pa55word"), "{stderr}");
}

/// The PostgreSQL URL may hold a password: `--help` never shows the value of `DAM_POSTGRES`,
/// and no refusal or start-up failure quotes it.
#[test]
fn the_postgres_url_is_never_printed() {
    let url = "postgres://dam:pa55word@127.0.0.1:1/nowhere";
    let env = [("DAM_POSTGRES", url)];
    let out = run_with_env(&["--help"], &env);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("DAM_POSTGRES") && !help.contains("pa55word"),
        "{help}"
    );
    for (args, envs, code) in [
        (vec!["--listen", "127.0.0.1:0"], &env[..], 1),
        (vec!["--memory", "--postgres", url], &[][..], 2),
        (
            vec!["--postgres", url, "--database", "x.sqlite3"],
            &[][..],
            2,
        ),
        (vec![], &[("DAM_POSTGRES", url), ("DAM_MEMORY", "1")][..], 2),
        (vec!["--postgres", url, "--listen", "nowhere"], &[][..], 2),
    ] {
        let stderr = exits_with(code, &args, envs);
        assert!(!stderr.contains("pa55word"), "{args:?} {envs:?}: {stderr}");
    }
}

/// Neither a URL that does not parse, nor an unreachable server, nor a server that refuses
/// the database puts the password in a message or a log line, even at `RUST_LOG=trace`.
#[test]
fn a_bad_or_unreachable_postgres_url_never_shows_its_password() {
    let mut urls = vec![
        "postgres://dam:pa55word@127.0.0.1:notaport/db".to_string(),
        "postgres://dam:pa55word@[::1/db".to_string(),
        "postgres://dam:pa55word@127.0.0.1:1/db?sslmode=pa55word".to_string(),
        "postgres://dam:pa55word@127.0.0.1:1/db?connect_timeout=x".to_string(),
        "host=127.0.0.1 port=1 user=dam password=pa55word dbname=db".to_string(),
        "host=127.0.0.1 port=1 user=dam password='pa55word dbname=db".to_string(),
        "postgres://dam:pa55word@127.0.0.1:1/db".to_string(),
    ];
    // A server that answers, asked for a database it does not have.
    if let Ok(test_url) = std::env::var("DAM_TEST_POSTGRES_URL") {
        if let Some(rest) = test_url.strip_prefix("postgres://") {
            let (auth, host_db) = rest.split_once('@').unwrap_or(("postgres", rest));
            let user = auth.split(':').next().unwrap_or("postgres");
            let host = host_db.split('/').next().unwrap_or(host_db);
            urls.push(format!(
                "postgres://{user}:pa55word@{host}/dam_no_such_database"
            ));
        }
    }
    for url in &urls {
        for (args, envs) in [
            (
                vec!["--listen", "127.0.0.1:0"],
                vec![("DAM_POSTGRES", url.as_str())],
            ),
            (vec!["--listen", "127.0.0.1:0", "--postgres", url], vec![]),
        ] {
            let mut envs = envs;
            envs.push(("RUST_LOG", "trace"));
            let stderr = exits_with(1, &args, &envs);
            assert!(stderr.contains("postgres"), "{url}: {stderr}");
            assert!(!stderr.contains("pa55word"), "{url}: {stderr}");
        }
    }
}

/// Every store and seed option works from the environment alone (§8).
#[tokio::test]
async fn store_seed_and_problem_options_come_from_the_environment() {
    let scratch = Scratch::new("env-only");
    let fixture = write_fixture(&scratch, "f.json", FIXTURE);
    let db = scratch.path("from-env.sqlite3");
    let db_text = db.to_string_lossy().into_owned();
    let server = Running::start(
        &[],
        &[
            ("DAM_LISTEN", "127.0.0.1:0"),
            ("DAM_DATABASE", db_text.as_str()),
            ("DAM_FIXTURES", fixture.as_str()),
            ("DAM_PROBLEM_TYPE_BASE", "https://example.org/problems"),
        ],
    );
    let page = get_ok(server.addr, "/image?$count=true", ACME_KEY.as_bytes()).await;
    assert_eq!(page["@count"], 7);
    let r = request(server.addr, "GET", "/image", None).await;
    assert_eq!(
        r.json()["type"],
        "https://example.org/problems/unauthorized"
    );
    let (code, _, _) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(db.exists(), "the database is where DAM_DATABASE says");
}

#[tokio::test]
async fn demo_loads_a_tenant_with_the_demo_key() {
    let server = Running::start(&["--memory", "--demo", "--listen", "127.0.0.1:0"], &[]);
    let page = get_ok(server.addr, "/image?$count=true&$top=5", b"demo-key").await;
    assert_eq!(page["@count"], 50);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(5));
    assert!(page["@nextLink"].is_string());
    let (code, _, _) = server.terminate();
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn a_store_loaded_with_nothing_answers_401() {
    let server = Running::start(&["--memory", "--listen", "127.0.0.1:0"], &[]);
    let r = request(server.addr, "GET", "/image", Some(b"demo-key")).await;
    assert_eq!(r.status, 401);
    server.terminate();
}

/// Contract §2 and §8 "Logs": at the most verbose log level, after requests with good,
/// unknown and malformed keys, neither stdout nor stderr holds a key or its digest.
#[tokio::test]
async fn no_api_key_or_digest_appears_in_the_logs() {
    let scratch = Scratch::new("logs");
    let server = start_with_fixture(&scratch, &[("RUST_LOG", "trace")]);
    let unknown = "unknown-secret-key-0123456789";
    let malformed = "malformed secret key 0123456789";
    for key in [ACME_KEY, GLOBEX_KEY, unknown, malformed, "acme-key-2"] {
        for target in [
            "/image?$count=true",
            "/image?$top=500",
            "/image?$filter=id%20eq%201",
        ] {
            request(server.addr, "GET", target, Some(key.as_bytes())).await;
        }
        request(server.addr, "DELETE", "/image/1", Some(key.as_bytes())).await;
        request(server.addr, "DELETE", "/image/abc", Some(key.as_bytes())).await;
        request(server.addr, "POST", "/image", Some(key.as_bytes())).await;
    }
    let (code, stdout, stderr) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("status=204"),
        "the request log is there: {stderr}"
    );
    let logs = format!("{}\n{stdout}\n{stderr}", "");
    for key in [ACME_KEY, GLOBEX_KEY, unknown, malformed, "acme-key-2"] {
        assert!(!logs.contains(key), "the key {key} appears in the logs");
        let digest = dam_core::KeyDigest::of(key).to_hex();
        assert!(
            !logs.to_lowercase().contains(&digest),
            "a digest appears in the logs"
        );
    }
}

/// Runs the binary in `dir` (for the default `dam.sqlite3` in the working directory).
fn start_in(dir: &std::path::Path, args: &[&str]) -> Running {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Running::start_in(dir, &all)
}

/// Without a store option the server keeps `dam.sqlite3` in its working directory; `--demo`
/// loads only into a store without images, so a restart keeps what it holds.
#[tokio::test]
async fn demo_on_the_default_database_survives_a_restart() {
    let scratch = Scratch::new("demo-restart");
    let server = start_in(&scratch.0, &["--demo"]);
    let r = request(server.addr, "DELETE", "/image/1", Some(b"demo-key")).await;
    assert_eq!(r.status, 204);
    // The seeding is in the metrics (the recorder is installed before it), and so are the
    // pools of the SQLite store.
    let (scrape, text) = metrics(server.addr).await;
    let count = |operation: &str| {
        scrape.value(
            "dam_store_operation_duration_seconds_count",
            &[("store", "sqlite"), ("operation", operation)],
        )
    };
    assert_eq!(count("is_empty"), Some(1.0), "{text}");
    assert_eq!(count("load_fixture"), Some(1.0), "{text}");
    assert_eq!(count("delete"), Some(1.0), "{text}");
    for (gauge, pool, value) in [
        ("dam_store_pool_max_size", "writer", 1.0),
        ("dam_store_pool_in_use", "writer", 0.0),
        ("dam_store_pool_waiting", "writer", 0.0),
        ("dam_store_pool_in_use", "readers", 0.0),
        ("dam_store_pool_waiting", "readers", 0.0),
    ] {
        let sample = scrape
            .value(gauge, &[("store", "sqlite"), ("pool", pool)])
            .unwrap_or_else(|| panic!("{gauge} of {pool} in {text}"));
        assert_eq!(sample, value, "{gauge} of {pool}");
    }
    assert_eq!(server.terminate().0, Some(0));
    assert!(
        scratch.path("dam.sqlite3").is_file(),
        "dam.sqlite3 in the working directory"
    );

    let server = start_in(&scratch.0, &["--demo"]);
    let page = get_ok(server.addr, "/image?$count=true&$top=1", b"demo-key").await;
    assert_eq!(
        page["@count"], 49,
        "the deleted image stays deleted: {page}"
    );
    assert_eq!(page["items"][0]["id"], 2);
    // The same list again is served from the reader's page cache, and counted so.
    let again = get_ok(server.addr, "/image?$count=true&$top=1", b"demo-key").await;
    assert_eq!(again, page);
    assert_eq!(cache_lookups(server.addr).await, (1.0, 1.0));
    assert_eq!(server.terminate().0, Some(0));

    // With the cache off, every list is read and none is counted.
    let server = start_in(&scratch.0, &["--list-cache-pages", "0"]);
    for _ in 0..2 {
        get_ok(server.addr, "/image?$top=1", b"demo-key").await;
    }
    assert_eq!(cache_lookups(server.addr).await, (0.0, 0.0));
    assert_eq!(server.terminate().0, Some(0));
}

/// The server's metrics now, parsed, and their text.
async fn metrics(addr: std::net::SocketAddr) -> (Scrape, String) {
    let scrape = request(addr, "GET", "/metrics", None).await;
    let text = String::from_utf8(scrape.body).expect("UTF-8");
    let parsed = Scrape::parse(&text).expect("the Prometheus text format");
    (parsed, text)
}

/// The SQLite page cache's (hits, misses) in the server's metrics now.
async fn cache_lookups(addr: std::net::SocketAddr) -> (f64, f64) {
    let (scrape, _) = metrics(addr).await;
    let lookups = |result: &str| {
        let labels = [("store", "sqlite"), ("result", result)];
        scrape
            .value("dam_store_list_cache_lookups_total", &labels)
            .unwrap_or(0.0)
    };
    (lookups("hit"), lookups("miss"))
}

/// A fixture that clashes with what the database holds is refused whole (exit 2, a message
/// naming the clash) and the database is left as it was. Keys are never stored in clear.
#[tokio::test]
async fn a_clashing_fixture_is_refused_and_the_database_kept() {
    let scratch = Scratch::new("clash");
    let fixture = write_fixture(&scratch, "f.json", FIXTURE);
    let db = scratch.path("dam.sqlite3").to_string_lossy().into_owned();
    let with_fixture = [
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db,
        "--fixtures",
        &fixture,
    ];
    let server = Running::start(&with_fixture, &[]);
    let r = request(server.addr, "DELETE", "/image/2", Some(ACME_KEY.as_bytes())).await;
    assert_eq!(r.status, 204);
    assert_eq!(server.terminate().0, Some(0));

    let stderr = exits_with(2, &with_fixture, &[]);
    assert!(
        stderr.contains(&fixture) && stderr.contains("clash"),
        "{stderr}"
    );

    let server = Running::start(&["--listen", "127.0.0.1:0", "--database", &db], &[]);
    let page = get_ok(server.addr, "/image?$count=true", ACME_KEY.as_bytes()).await;
    assert_eq!(page["@count"], 6, "the database is as it was");
    assert_eq!(server.terminate().0, Some(0));

    for entry in std::fs::read_dir(&scratch.0)
        .expect("dir")
        .map_while(Result::ok)
    {
        let bytes = std::fs::read(entry.path()).expect("read");
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("dam.sqlite3")
        {
            for key in [ACME_KEY, GLOBEX_KEY, "acme-key-2"] {
                let found = bytes.windows(key.len()).any(|w| w == key.as_bytes());
                assert!(!found, "{key} stored in clear in {:?}", entry.file_name());
            }
        }
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_reported() {
    let scratch = Scratch::new("nodb");
    let db = scratch
        .path("missing-dir/dam.sqlite3")
        .to_string_lossy()
        .into_owned();
    let stderr = exits_with(1, &["--listen", "127.0.0.1:0", "--database", &db], &[]);
    assert!(
        stderr.contains("sqlite") && stderr.contains(&db),
        "{stderr}"
    );
}
