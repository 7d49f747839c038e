//! Instruction counts under valgrind's callgrind: figures that a loaded machine does not move.
//!
//! `cargo bench -p dam-benches --bench callgrind [-- NAME…]`
//!
//! Cases: `$filter` parse + validate of each input of `dam_benches::FILTERS` (as the criterion
//! bench `query_parse`), `$orderby` parse of each of `dam_benches::ORDERBYS`, and a memory-store
//! list (first page and the page after it by `$skiptoken`) over a fixed data set, and the five
//! lists of the HTTP load harness's mixed workload on a SQLite file (`sqlite_list/…`, 200
//! images a tenant). NAMEs keep only the cases whose name contains one of them.
//!
//! The bench runs itself once per case under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=*callgrind_measured*`: the
//! child prepares its case, runs it once unmeasured (so first-use costs stay out), then once
//! inside `callgrind_measured`, the only function whose instructions are counted. The parent
//! prints the counts, next to those of the previous run (kept in `target/callgrind/`).
//!
//! A SQLite list runs on a blocking thread, outside `callgrind_measured`: for those cases the
//! child counts everything, once with the set-up and warm-up alone and once with
//! `SQLITE_RUNS` lists more, and the figure is the difference divided by `SQLITE_RUNS`.
//! Without valgrind it says so and counts nothing. Run without `--bench` (`cargo test
//! --benches`), it runs each case once natively, unmeasured: a quick check, no valgrind.

use std::collections::BTreeMap;
use std::future::Future;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::Command;
use std::task::{Context, Poll, Waker};

use dam_benches::store_data::{fixture, tenant};
use dam_benches::{FILTERS, MIX_IMAGES, MIX_LISTS, ORDERBYS};
use dam_core::query::{parse_filter, parse_orderby, parse_query_string};
use dam_core::store::{ImageStore, ListQuery, SeedStore};
use dam_store_memory::MemoryStore;
use dam_store_sqlite::{SqliteOptions, SqliteStore};

/// Set in the child: the case to run.
const CASE_VAR: &str = "DAM_CALLGRIND_CASE";
/// Set in the child of a SQLite case: how many measured lists it runs after the warm-up.
const RUNS_VAR: &str = "DAM_CALLGRIND_RUNS";
/// The measured lists of a SQLite case.
const SQLITE_RUNS: u32 = 50;
/// The images of the list cases (over 10 tenants: 2 000 in the listed one, ~210 matches).
const LIST_IMAGES: usize = 20_000;
/// The list cases' query string, as a client sends it.
const LIST_QUERY: &str = "$filter=fileType%20eq%20'jpg'%20and%20status%20in%20('Ok','Re')\
                          %20and%20numLinks%20ge%203&$orderby=createdOn%20desc&$top=100";

fn case_names() -> Vec<String> {
    let mut names: Vec<String> = FILTERS
        .iter()
        .map(|(name, _)| format!("filter/{name}"))
        .collect();
    names.extend(ORDERBYS.iter().map(|(name, _)| format!("orderby/{name}")));
    names.push("memory_list/first_page".into());
    names.push("memory_list/skiptoken_page".into());
    names.extend(
        MIX_LISTS
            .iter()
            .map(|(name, _)| format!("sqlite_list/{name}")),
    );
    names
}

/// The only function whose instructions callgrind counts (`--toggle-collect`).
#[inline(never)]
fn callgrind_measured(run: &mut dyn FnMut()) {
    run();
}

/// Polls a future that never waits (the memory store's are ready at once) to completion.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The store and the two page queries of the list cases.
fn list_setup() -> (MemoryStore, ListQuery, ListQuery) {
    let store = MemoryStore::new();
    ready(store.load_fixture(&fixture(LIST_IMAGES, 1, 42))).expect("load");
    let request = parse_query_string(Some(LIST_QUERY)).expect("valid query");
    let first = request.page_query();
    let page = ready(store.list(&tenant(3), &first)).expect("list");
    let last = page.items.last().expect("a full first page");
    let link = request.next_link("/image", last).expect("a next page");
    let (_, query) = link.split_once('?').expect("a query string");
    let next = parse_query_string(Some(query))
        .expect("valid link")
        .page_query();
    (store, first, next)
}

/// The text of the input called `name`.
fn input_named(inputs: &[(&str, &'static str)], name: &str) -> &'static str {
    inputs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .expect("a known input")
}

/// A SQLite case: a file with the mix's data, 20 lists of `list` unmeasured (statements
/// prepared, SQLite's pages cached), then `runs` more. The store's page cache is off: each
/// list runs its statements.
fn run_sqlite_case(list: &str, runs: u32) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = SqliteOptions::default().list_cache_pages(0);
    let store = SqliteStore::open_with(dir.path().join("dam.sqlite3"), options).expect("open");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime
        .block_on(store.load_fixture(&fixture(MIX_IMAGES, 1, 42)))
        .expect("load");
    let text = input_named(&MIX_LISTS, list);
    let query = parse_query_string(Some(text).filter(|t| !t.is_empty()))
        .expect("valid query")
        .page_query();
    let t = tenant(3);
    runtime.block_on(async {
        for _ in 0..20 + runs {
            let page = store.list(&t, black_box(&query)).await.expect("list");
            assert!(!page.items.is_empty());
            black_box(page);
        }
    });
}

/// Prepares `name`, runs it once unmeasured, then once in [`callgrind_measured`].
fn run_case(name: &str) {
    if let Some(list) = name.strip_prefix("sqlite_list/") {
        let runs = std::env::var(RUNS_VAR)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        run_sqlite_case(list, runs);
        return;
    }
    let mut run: Box<dyn FnMut()> = if let Some(input) = name.strip_prefix("filter/") {
        let text = input_named(&FILTERS, input);
        Box::new(move || {
            black_box(parse_filter(black_box(text)).expect("valid"));
        })
    } else if let Some(input) = name.strip_prefix("orderby/") {
        let text = input_named(&ORDERBYS, input);
        Box::new(move || {
            black_box(parse_orderby(black_box(text)).expect("valid"));
        })
    } else {
        let (store, first, next) = list_setup();
        let query = if name.ends_with("first_page") {
            first
        } else {
            next
        };
        let t = tenant(3);
        Box::new(move || {
            let page = ready(store.list(&t, black_box(&query))).expect("list");
            assert_eq!(page.items.len(), 100);
            black_box(page);
        })
    };
    run();
    callgrind_measured(&mut run);
}

/// Runs case `name` under callgrind into `out` and reads its count: the instructions of
/// `callgrind_measured`, or with `runs` (a SQLite case) every instruction of the child.
fn count_child(exe: &Path, name: &str, runs: Option<u32>, out: &Path) -> Option<u64> {
    let mut command = Command::new("valgrind");
    command.arg("--tool=callgrind");
    match runs {
        Some(runs) => {
            command.env(RUNS_VAR, runs.to_string());
        }
        None => {
            command.args([
                "--collect-atstart=no",
                "--toggle-collect=*callgrind_measured*",
            ]);
        }
    }
    let status = command
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .env(CASE_VAR, name)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run valgrind");
    instructions(out).filter(|_| status.success())
}

/// The instructions counted in a callgrind output file (its `summary:` or `totals:` line).
fn instructions(out: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(out).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or(l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// `target/callgrind`, from this executable's place (`target/release/deps/…`).
fn out_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench's path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("callgrind")
}

fn read_previous(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (name, n) = l.split_once(' ')?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .collect()
}

fn main() {
    if let Ok(name) = std::env::var(CASE_VAR) {
        run_case(&name);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> = {
        let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        case_names()
            .into_iter()
            .filter(|n| wanted.is_empty() || wanted.iter().any(|w| n.contains(w.as_str())))
            .collect()
    };
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --benches`: each case once, natively, as a check that it runs.
        for name in &names {
            run_case(name);
        }
        println!(
            "callgrind: {} cases ran once (no counting without --bench)",
            names.len()
        );
        return;
    }
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.is_ok_and(|o| o.status.success()) {
        println!("callgrind: valgrind not found; nothing counted");
        return;
    }
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("target/callgrind");
    let summary = dir.join("instructions.txt");
    let previous = read_previous(&summary);
    let exe = std::env::current_exe().expect("the bench's path");
    let mut now = BTreeMap::new();
    println!(
        "{:<34} {:>14} {:>14} {:>9}",
        "case", "instructions", "previous", "change"
    );
    for name in &names {
        let stem = name.replace('/', ".");
        let out = |suffix: &str| dir.join(format!("{stem}{suffix}.out"));
        let count = if name.starts_with("sqlite_list/") {
            let before = count_child(&exe, name, Some(0), &out(".warm-up"));
            let after = count_child(&exe, name, Some(SQLITE_RUNS), &out(""));
            before
                .zip(after)
                .map(|(before, after)| after.saturating_sub(before) / u64::from(SQLITE_RUNS))
        } else {
            count_child(&exe, name, None, &out(""))
        };
        let Some(count) = count else {
            println!("{name:<34} failed; see {}", out("").display());
            continue;
        };
        now.insert(name.clone(), count);
        match previous.get(name) {
            Some(&before) => println!(
                "{name:<34} {count:>14} {before:>14} {:>+8.2}%",
                (count as f64 - before as f64) / before as f64 * 100.0
            ),
            None => println!("{name:<34} {count:>14}"),
        }
    }
    let mut all = previous;
    all.extend(now);
    let text: String = all.iter().map(|(n, c)| format!("{n} {c}\n")).collect();
    std::fs::write(&summary, text).expect("write the summary");
    println!("callgrind output: {}", dir.display());
}
