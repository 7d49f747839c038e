//! The command line (contract §8 "Server").

use std::ffi::OsString;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use dam_axum::BasePath;

/// The default SQLite database file, in the working directory.
pub const DEFAULT_DATABASE: &str = "dam.sqlite3";

/// DAM Core image API server: `GET /image` and `DELETE /image/{id}`.
///
/// Storage is a SQLite file by default (`--database`), or memory (`--memory`). A store with
/// no API keys answers every request with 401: load tenants with `--fixtures` or `--demo`.
/// Logs go to stderr (filter with RUST_LOG, default `info`); stdout carries only the
/// `listening on http://HOST:PORT` line. Every option can also be given as an environment
/// variable (`DAM_` and the option's name, e.g. `DAM_POSTGRES`); the command line wins.
///
/// `--memory`, `--database` and `--postgres` exclude each other, and so do `--fixtures` and
/// `--demo`: two of one set on the command line, or two in the environment, are refused; one
/// on the command line sets aside the others of its set that the environment gives.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "dam-server", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on; port 0 picks a free port. Once bound, the server prints
    /// `listening on http://HOST:PORT` (the real port) on stdout.
    #[arg(
        long,
        env = "DAM_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// SQLite database file (created if missing). The default store.
    #[arg(long, env = "DAM_DATABASE", value_name = "PATH", default_value = DEFAULT_DATABASE)]
    pub database: PathBuf,

    /// Pages of lists each SQLite reader connection keeps (default 32; 0 turns the cache off).
    /// A kept page is served again only while the database file is unchanged since it was
    /// read, by this server or any other process, so it is never stale; any write empties
    /// the caches. Only with the SQLite store.
    #[arg(long, env = "DAM_LIST_CACHE_PAGES", value_name = "N")]
    pub list_cache_pages: Option<usize>,

    /// Keep everything in memory (lost on exit) instead of a database file.
    #[arg(long, env = "DAM_MEMORY", value_parser = BoolishValueParser::new())]
    pub memory: bool,

    /// Use a PostgreSQL database (`postgres://USER@HOST:PORT/DB`) instead of a file; its
    /// tables are created or migrated at start. Several servers may share one database.
    /// The URL may hold a password: prefer `DAM_POSTGRES` to the command line, which other
    /// users of the machine can see; the value is never printed.
    #[arg(long, env = "DAM_POSTGRES", hide_env_values = true, value_name = "URL")]
    pub postgres: Option<String>,

    /// A hot standby of the `--postgres` database that may answer lists and counts
    /// (repeatable; in `DAM_POSTGRES_REPLICA` separate several with `,`). A list goes to a
    /// replica only when it has replayed every write finished before it (else to the
    /// primary), and a write waits up to 1 s for the replicas to replay it; a replica that is
    /// down or lags leaves the rotation until it catches up. Only with `--postgres`. The URL
    /// may hold a password: it is never printed.
    #[arg(
        long,
        env = "DAM_POSTGRES_REPLICA",
        hide_env_values = true,
        value_name = "URL",
        requires = "postgres",
        value_delimiter = ','
    )]
    pub postgres_replica: Vec<String>,

    /// Load this fixture file (contract §7) at start, all or nothing. A bad file or a clash
    /// with what the store holds is reported on stderr with exit code 2, the store untouched.
    #[arg(long, env = "DAM_FIXTURES", value_name = "FILE")]
    pub fixtures: Option<PathBuf>,

    /// If the store holds no image, load a demo tenant (API key `demo-key`, 50 images). A
    /// store that holds images is kept as it is, so a restart keeps what it holds.
    #[arg(long, env = "DAM_DEMO", value_parser = BoolishValueParser::new())]
    pub demo: bool,

    /// Base URL of every problem's `type` (default `https://api2.saleslayer.com/errors`).
    #[arg(long, env = "DAM_PROBLEM_TYPE_BASE", value_name = "URL")]
    pub problem_type_base: Option<String>,

    /// Serve every route under this prefix (e.g. `/dam/v2`: `/dam/v2/image`); problem
    /// `instance`s and `@nextLink`s carry it, and every other path is a 404. Starts with `/`,
    /// no trailing `/`, letters, digits and `-._~` between the slashes.
    #[arg(long, env = "DAM_BASE_PATH", value_name = "PREFIX")]
    pub base_path: Option<BasePath>,

    /// The `Retry-After` of a 409 (an image being processed), in whole seconds (at least 1).
    #[arg(long, env = "DAM_RETRY_AFTER", value_name = "SECONDS", default_value_t = dam_axum::DEFAULT_RETRY_AFTER, value_parser = whole_seconds)]
    pub retry_after: NonZeroU32,

    /// Allow each tenant N requests per second on the image operations, in bursts of up to N
    /// (off by default). Past it: 429 with `Retry-After`; with it, every answer to an
    /// authenticated request carries `RateLimit-Policy` and `RateLimit`. Counted per process.
    #[arg(long, env = "DAM_RATE_LIMIT", value_name = "N", value_parser = per_second)]
    pub rate_limit: Option<NonZeroU32>,
}

/// The options that exclude each other, set by set.
const EXCLUSIVE: [&[&str]; 2] = [&["memory", "database", "postgres"], &["fixtures", "demo"]];

fn whole_seconds(text: &str) -> Result<NonZeroU32, String> {
    text.parse::<NonZeroU32>()
        .map_err(|_| "a whole number of seconds, at least 1".to_string())
}

fn per_second(text: &str) -> Result<NonZeroU32, String> {
    text.parse::<NonZeroU32>()
        .map_err(|_| "a whole number of requests per second, at least 1".to_string())
}

/// Which storage adapter to open. One arm per adapter: a new adapter is one more variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// [`dam_store_memory::MemoryStore`].
    Memory,
    /// A SQLite database file.
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Pages of lists each reader connection keeps; `None` for the adapter's default.
        list_cache_pages: Option<usize>,
    },
    /// A PostgreSQL database.
    Postgres {
        /// The primary's connection URL.
        url: String,
        /// Hot standbys that may answer lists.
        replicas: Vec<String>,
    },
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

/// The environment variable of option `id`.
fn env_name(command: &clap::Command, id: &str) -> String {
    command
        .get_arguments()
        .find(|arg| arg.get_id() == id)
        .and_then(|arg| arg.get_env())
        .map_or_else(
            || id.to_string(),
            |name| name.to_string_lossy().into_owned(),
        )
}

impl Cli {
    /// Parses the process's command line and `DAM_*` environment.
    ///
    /// Errors: a usage error (exit code 2), as [`Cli::try_from_args`].
    pub fn from_process() -> Result<Cli, clap::Error> {
        Cli::try_from_args(std::env::args_os())
    }

    /// Parses `args` (the program name first) and the `DAM_*` environment; the command line
    /// wins over the environment, also within the sets of options that exclude each other.
    ///
    /// Errors: clap's usage errors (exit code 2); [`ErrorKind::ArgumentConflict`] for two
    /// options of one exclusive set. No message holds an option's value.
    pub fn try_from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
        for set in EXCLUSIVE {
            let from = |source| -> Vec<&str> {
                set.iter()
                    .copied()
                    .filter(|id| matches.value_source(id) == Some(source))
                    .collect()
            };
            let (on_line, in_env) = (
                from(ValueSource::CommandLine),
                from(ValueSource::EnvVariable),
            );
            let chosen = match (on_line.as_slice(), in_env.as_slice()) {
                ([], []) => continue,
                ([one], _) | ([], [one]) => *one,
                ([a, b, ..], _) => {
                    let message = format!("the argument '--{a}' cannot be used with '--{b}'");
                    return Err(command.error(ErrorKind::ArgumentConflict, message));
                }
                ([], [a, b, ..]) => {
                    let message = format!(
                        "the environment variables {} and {} cannot be used together",
                        env_name(&command, a),
                        env_name(&command, b)
                    );
                    return Err(command.error(ErrorKind::ArgumentConflict, message));
                }
            };
            for id in set.iter().filter(|id| **id != chosen) {
                cli.set_aside(id);
            }
        }
        match (cli.store(), matches.value_source("list_cache_pages")) {
            (StoreChoice::Sqlite { .. }, _) => {}
            // A shared environment may set it for servers of every store.
            (_, Some(ValueSource::EnvVariable)) => cli.list_cache_pages = None,
            (_, None) => {}
            (_, Some(_)) => {
                let message = "the argument '--list-cache-pages' applies to the SQLite store \
                               only, not with '--memory' or '--postgres'";
                return Err(command.error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(cli)
    }

    /// Back to the value an option has when it is not given.
    fn set_aside(&mut self, id: &str) {
        match id {
            "memory" => self.memory = false,
            "database" => self.database = PathBuf::from(DEFAULT_DATABASE),
            "postgres" => {
                self.postgres = None;
                self.postgres_replica.clear();
            }
            "fixtures" => self.fixtures = None,
            "demo" => self.demo = false,
            _ => {}
        }
    }

    /// The storage adapter the options select.
    pub fn store(&self) -> StoreChoice {
        if self.memory {
            StoreChoice::Memory
        } else if let Some(url) = &self.postgres {
            StoreChoice::Postgres {
                url: url.clone(),
                replicas: self.postgres_replica.clone(),
            }
        } else {
            StoreChoice::Sqlite {
                path: self.database.clone(),
                list_cache_pages: self.list_cache_pages,
            }
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

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_from_args(std::iter::once("dam-server").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_sqlite_in_the_working_directory_on_8080() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            cli.store(),
            StoreChoice::Sqlite {
                path: PathBuf::from("dam.sqlite3"),
                list_cache_pages: None
            }
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
        assert_eq!(
            cli.store(),
            StoreChoice::Sqlite {
                path: PathBuf::from("x.db"),
                list_cache_pages: None
            }
        );
        assert_eq!(cli.seed(), Seed::Fixtures(PathBuf::from("f.json")));
        let cli = parse(&["--list-cache-pages", "0"]).unwrap();
        assert_eq!(
            cli.store(),
            StoreChoice::Sqlite {
                path: PathBuf::from("dam.sqlite3"),
                list_cache_pages: Some(0)
            }
        );
        let cli = parse(&["--postgres", "postgres://u@h/db"]).unwrap();
        assert_eq!(
            cli.store(),
            StoreChoice::Postgres {
                url: "postgres://u@h/db".into(),
                replicas: vec![]
            }
        );
        let cli = parse(&["--problem-type-base", "https://example.org/e"]).unwrap();
        assert_eq!(
            cli.problem_type_base.as_deref(),
            Some("https://example.org/e")
        );
    }

    #[test]
    fn base_path_and_retry_after_are_checked() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.base_path, None);
        assert_eq!(cli.retry_after.get(), 5);
        let cli = parse(&["--base-path", "/dam/v2", "--retry-after", "12"]).unwrap();
        assert_eq!(cli.base_path.unwrap().as_str(), "/dam/v2");
        assert_eq!(cli.retry_after.get(), 12);
        assert_eq!(cli.rate_limit, None);
        let cli = parse(&["--rate-limit", "50"]).unwrap();
        assert_eq!(cli.rate_limit.map(NonZeroU32::get), Some(50));
        for args in [
            &["--base-path", "/dam/"][..],
            &["--base-path", ""][..],
            &["--retry-after", "0"][..],
            &["--retry-after", "abc"][..],
            &["--rate-limit", "0"][..],
            &["--rate-limit", "ten"][..],
            &["--list-cache-pages", "1.5"][..],
            &["--list-cache-pages", "many"][..],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValueValidation, "{args:?}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    /// §8: every option, today's and any added later, is also `DAM_` + its long name in upper
    /// case with `_` for `-`.
    #[test]
    fn every_option_has_its_environment_variable() {
        let command = Cli::command();
        let mut options = 0;
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let expected = format!("DAM_{}", long.to_ascii_uppercase().replace('-', "_"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(env.as_deref(), Some(expected.as_str()), "--{long}");
            options += 1;
        }
        assert!(options >= 9, "{options} options");
    }

    #[test]
    fn replicas_repeat_and_need_postgres() {
        let cli = parse(&[
            "--postgres",
            "postgres://u@p/db",
            "--postgres-replica",
            "postgres://u@r1/db",
            "--postgres-replica",
            "postgres://u@r2/db,postgres://u@r3/db",
        ])
        .unwrap();
        assert_eq!(
            cli.store(),
            StoreChoice::Postgres {
                url: "postgres://u@p/db".into(),
                replicas: vec![
                    "postgres://u@r1/db".into(),
                    "postgres://u@r2/db".into(),
                    "postgres://u@r3/db".into()
                ]
            }
        );
        for args in [
            &["--postgres-replica", "postgres://u@r1/db"][..],
            &["--memory", "--postgres-replica", "postgres://u@r1/db"][..],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument, "{args:?}");
            assert_eq!(e.exit_code(), 2);
            assert!(!e.to_string().contains("u@r1"), "{e}");
        }
    }

    #[test]
    fn the_list_cache_is_an_option_of_the_sqlite_store_only() {
        for args in [
            &["--memory", "--list-cache-pages", "4"][..],
            &["--postgres", "postgres://u@h/db", "--list-cache-pages", "4"][..],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{args:?}");
            assert!(e.to_string().contains("--list-cache-pages"), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
        let cli = parse(&["--database", "x.db", "--list-cache-pages", "4"]).unwrap();
        assert_eq!(cli.list_cache_pages, Some(4));
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
