//! `dam-server`: the DAM Core image API over HTTP. See `dam-server --help`.

use std::process::ExitCode;

use dam_server::Cli;
use tracing_subscriber::util::SubscriberInitExt;

/// mimalloc rather than the system allocator: see the dependency's note in Cargo.toml. Only
/// the binary chooses; a service that links the library crates keeps its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // Parsed first: a usage error exits with clap's message and code 2.
    let cli = Cli::from_process().unwrap_or_else(|error| error.exit());
    let rust_log = std::env::var("RUST_LOG").ok();
    dam_server::log_subscriber(rust_log.as_deref(), std::io::stderr).init();
    match dam_server::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dam-server: {error}");
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}
