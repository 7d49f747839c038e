//! The command line (contract §8 "Server").

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgGroup, Parser};

/// The default SQLite database file, in the working directory.
pub const DEFAULT_DATABASE: &str = "dam.sqlite3";

/// DAM Core image API server: `GET /image` and `DELETE /image/{id}`.
///
/// Storage is a SQLite file by default (`--database`), or memory (`--memory`). A store with
/// no API keys answers every request with 401: load tenants with `--fixtures` or `--demo`.
/// Logs go to stderr (filter with RUST_LOG, default `info`); stdout carries only the
/// `listening on http://HOST:PORT` line.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "dam-server", version, about, long_about = None)]
#[command(group(ArgGroup::new("store").args(["memory", "database", "postgres"]).multiple(false)))]
#[command(group(ArgGroup::new("seed").args(["fixtures", "demo"]).multiple(false)))]
pub struct Cli {
    /// Address to listen on; port 0 picks a free port. Once bound, the server prints
    /// `listening on http://HOST:PORT` (the real port) on stdout.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// SQLite database file (created if missing). The default store.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_DATABASE)]
    pub database: PathBuf,

    /// Keep everything in memory (lost on exit) instead of a database file.
    #[arg(long)]
    pub memory: bool,

    /// Use a PostgreSQL database (`postgres://USER@HOST:PORT/DB`) instead of a file; its
    /// tables are created or migrated at start. Several servers may share one database.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,

    /// Load this fixture file (contract §7) at start, all or nothing. A bad file or a clash
    /// with what the store holds is reported on stderr with exit code 2, the store untouched.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,

    /// If the store holds no image, load a demo tenant (API key `demo-key`, 50 images). A
    /// store that holds images is kept as it is, so a restart keeps what it holds.
    #[arg(long)]
    pub demo: bool,

    /// Base URL of every problem's `type` (default `https://api2.saleslayer.com/errors`).
    #[arg(long, value_name = "URL")]
    pub problem_type_base: Option<String>,
}

/// Which storage adapter to open. One arm per adapter: a new adapter is one more variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// [`dam_store_memory::MemoryStore`].
    Memory,
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

/// What to load into the store at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seed {
    /// Nothing: the store as it is.
    None,
    /// A fixture file (§7).
    Fixtures(PathBuf),
    /// The demo tenant, into a store without images.
    Demo,
}

impl Cli {
    /// The storage adapter the options select.
    pub fn store(&self) -> StoreChoice {
        if self.memory {
            StoreChoice::Memory
        } else if let Some(url) = &self.postgres {
            StoreChoice::Postgres(url.clone())
        } else {
            StoreChoice::Sqlite(self.database.clone())
        }
    }

    /// What to load at start.
    pub fn seed(&self) -> Seed {
        match (&self.fixtures, self.demo) {
            (Some(path), _) => Seed::Fixtures(path.clone()),
            (None, true) => Seed::Demo,
            (None, false) => Seed::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("dam-server").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_sqlite_in_the_working_directory_on_8080() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            cli.store(),
            StoreChoice::Sqlite(PathBuf::from("dam.sqlite3"))
        );
        assert_eq!(cli.seed(), Seed::None);
        assert_eq!(cli.problem_type_base, None);
    }

    #[test]
    fn each_option_selects_what_it_says() {
        let cli = parse(&["--memory", "--demo", "--listen", "0.0.0.0:0"]).unwrap();
        assert_eq!(cli.store(), StoreChoice::Memory);
        assert_eq!(cli.seed(), Seed::Demo);
        let cli = parse(&["--database", "x.db", "--fixtures", "f.json"]).unwrap();
        assert_eq!(cli.store(), StoreChoice::Sqlite(PathBuf::from("x.db")));
        assert_eq!(cli.seed(), Seed::Fixtures(PathBuf::from("f.json")));
        let cli = parse(&["--postgres", "postgres://u@h/db"]).unwrap();
        assert_eq!(
            cli.store(),
            StoreChoice::Postgres("postgres://u@h/db".into())
        );
        let cli = parse(&["--problem-type-base", "https://example.org/e"]).unwrap();
        assert_eq!(
            cli.problem_type_base.as_deref(),
            Some("https://example.org/e")
        );
    }

    #[test]
    fn exclusive_options_are_refused() {
        for args in [
            &["--memory", "--database", "x.db"][..],
            &["--memory", "--postgres", "postgres://h/db"][..],
            &["--database", "x.db", "--postgres", "postgres://h/db"][..],
            &["--fixtures", "f.json", "--demo"][..],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{args:?}");
            assert_eq!(e.exit_code(), 2);
        }
        assert!(parse(&["--listen", "nowhere"]).is_err());
    }
}
