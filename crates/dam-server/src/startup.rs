//! From the command line to a running server: open the store, load fixtures or the demo,
//! bind, announce, serve until a signal.

use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dam_core::store::{ImageStore, KeyStore, MeteredStore, SeedStore, StoreError};
use dam_core::{error_chain, Fixture, ImageService, ServiceConfig};
use dam_store_memory::MemoryStore;
use dam_store_postgres::{PostgresConfig, PostgresStore};
use dam_store_sqlite::{SqliteOptions, SqliteStore};

use crate::cli::{Cli, Seed, StoreChoice};
use crate::{app, demo, serve, shutdown_signal, AppConfig};

/// Why the server could not start. [`StartupError::exit_code`] is the process's exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The fixture file cannot be read, is not a valid §7 fixture, or clashes with what the
    /// store holds (nothing was loaded).
    #[error("cannot load fixtures from {path}: {reason}")]
    Fixtures {
        /// The file.
        path: PathBuf,
        /// What is wrong (never an API key).
        reason: String,
    },
    /// The store cannot be opened or read.
    #[error("cannot open the {store} store: {reason}")]
    Store {
        /// Which store.
        store: &'static str,
        /// Why, with the driver's message (for the operator; never an API key).
        reason: String,
    },
    /// The demo data is invalid (a defect of this program).
    #[error("cannot build the demo data: {0}")]
    Demo(String),
    /// The SIGINT/SIGTERM handlers cannot be installed.
    #[error("cannot listen for shutdown signals: {0}")]
    Signals(#[source] std::io::Error),
    /// The listen address cannot be bound, or stdout cannot be written.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl StartupError {
    /// 2 for a bad fixture file (a usage error, like clap's), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            StartupError::Fixtures { .. } => 2,
            _ => 1,
        }
    }
}

/// An opened store: its image and key sides (usually one adapter).
#[derive(Clone)]
pub struct Stores {
    /// Images of all tenants.
    pub images: Arc<dyn ImageStore>,
    /// Key digests to tenants.
    pub keys: Arc<dyn KeyStore>,
    /// Fixture loading, for `--demo` and `--fixture`.
    pub seed: Arc<dyn SeedStore>,
}

impl Stores {
    /// `store` on every side, its operations recorded as metrics labelled `store` = `name`.
    fn of<S: ImageStore + KeyStore + SeedStore + 'static>(name: &'static str, store: S) -> Self {
        let store = Arc::new(MeteredStore::new(name, store));
        Stores {
            images: store.clone(),
            keys: store.clone(),
            seed: store,
        }
    }
}

/// Opens the store the command line selects.
///
/// Errors: [`StartupError::Store`].
pub async fn open_store(choice: &StoreChoice) -> Result<Stores, StartupError> {
    match choice {
        StoreChoice::Memory => Ok(Stores::of("memory", MemoryStore::new())),
        StoreChoice::Sqlite {
            path,
            list_cache_pages,
        } => open_sqlite(path, *list_cache_pages),
        StoreChoice::Postgres { url, replicas } => open_postgres(url, replicas).await,
    }
}

fn open_sqlite(path: &Path, list_cache_pages: Option<usize>) -> Result<Stores, StartupError> {
    let mut options = SqliteOptions::default();
    if let Some(pages) = list_cache_pages {
        options = options.list_cache_pages(pages);
    }
    // Blocks briefly on the disk; nothing else runs yet at start-up.
    let store = SqliteStore::open_with(path, options).map_err(|e| StartupError::Store {
        store: "sqlite",
        reason: format!("{}: {}", path.display(), error_chain(&e)),
    })?;
    Ok(Stores::of("sqlite", store))
}

async fn open_postgres(url: &str, replicas: &[String]) -> Result<Stores, StartupError> {
    // The URL may hold a password: the reason names the driver's error, never the URL.
    let fail = |e: &dyn std::error::Error| StartupError::Store {
        store: "postgres",
        reason: error_chain(e),
    };
    let mut config = PostgresConfig::new(url).map_err(|e| fail(&e))?;
    for (i, replica) in replicas.iter().enumerate() {
        config = config
            .with_replica(replica)
            .map_err(|e| StartupError::Store {
                store: "postgres",
                reason: format!("replica {}: {}", i + 1, error_chain(&e)),
            })?;
    }
    let store = PostgresStore::connect(config).await.map_err(|e| fail(&e))?;
    Ok(Stores::of("postgres", store))
}

/// Loads what the command line asks for into the store.
///
/// Errors: [`StartupError::Fixtures`] for a bad file or a clash (the store is left as it
/// was); [`StartupError::Store`]; [`StartupError::Demo`].
pub async fn seed(stores: &Stores, seed: &Seed) -> Result<(), StartupError> {
    match seed {
        Seed::None => Ok(()),
        Seed::Fixtures(path) => {
            let fail = |reason: String| StartupError::Fixtures {
                path: path.clone(),
                reason,
            };
            let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
            let fixture = Fixture::from_json(&text).map_err(|e| fail(e.to_string()))?;
            stores
                .seed
                .load_fixture(&fixture)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(what) => fail(format!("clash with the store: {what}")),
                    other => fail(error_chain(&other)),
                })?;
            tracing::info!(path = %path.display(), tenants = fixture.tenants.len(), "fixtures loaded");
            Ok(())
        }
        Seed::Demo => {
            let empty = stores
                .seed
                .is_empty()
                .await
                .map_err(|e| StartupError::Store {
                    store: "configured",
                    reason: error_chain(&e),
                })?;
            if !empty {
                tracing::info!("the store holds images; the demo data is not loaded again");
                return Ok(());
            }
            let fixture = demo::fixture().map_err(|e| StartupError::Demo(e.to_string()))?;
            match stores.seed.load_fixture(&fixture).await {
                Ok(()) => {
                    tracing::info!(
                        images = demo::DEMO_IMAGES,
                        "demo tenant loaded (API key demo-key)"
                    );
                    Ok(())
                }
                // Every demo image was deleted, but its tenant and key are still there.
                Err(StoreError::Conflict(what)) => {
                    tracing::info!(clash = %what, "the demo tenant already exists; kept as it is");
                    Ok(())
                }
                Err(e) => Err(StartupError::Store {
                    store: "configured",
                    reason: error_chain(&e),
                }),
            }
        }
    }
}

/// Runs the server of the command line until SIGINT or SIGTERM.
///
/// Errors: see [`StartupError`]; each carries its exit code.
pub async fn run(cli: Cli) -> Result<(), StartupError> {
    let config = AppConfig {
        base_path: cli.base_path.clone().unwrap_or_default(),
        retry_after: cli.retry_after,
        rate_limit: cli.rate_limit,
        ..AppConfig::default()
    };
    // The recorder first, so that opening and seeding the store are recorded too.
    crate::metrics::prometheus();
    let stores = open_store(&cli.store()).await?;
    seed(&stores, &cli.seed()).await?;
    let mut service_config = ServiceConfig::default();
    if let Some(base) = &cli.problem_type_base {
        service_config.problem_type_base = base.clone();
    }
    let service = ImageService::with_config(stores.images, stores.keys, service_config);
    crate::metrics::spawn_upkeep();
    let app = app(service, &config);
    let listen_error = |source| StartupError::Listen {
        addr: cli.listen.to_string(),
        source,
    };
    let listener = crate::bind(cli.listen).await.map_err(listen_error)?;
    let local = listener.local_addr().map_err(listen_error)?;
    let shutdown = shutdown_signal().map_err(StartupError::Signals)?;
    announce(&local.to_string()).map_err(listen_error)?;
    tracing::info!(
        address = %local,
        base_path = %config.base_path,
        rate_limit = config.rate_limit.map_or(0, NonZeroU32::get),
        "listening"
    );
    serve(listener, app, &config.limits, shutdown)
        .await
        .map_err(listen_error)
}

/// The one line on stdout that says where the server listens, flushed at once.
fn announce(address: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{address}")?;
    out.flush()
}
