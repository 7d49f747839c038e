//! # dam-server
//!
//! DAM Core's server: the HTTP face of `dam-axum` over a storage adapter chosen on the command
//! line. This crate is wiring only — the command line, store selection, start-up, the base
//! path, the accept loop and logging; the routes and layers live in `dam-axum`, every rule of
//! the API in `dam-core`.
//!
//! The binary (`src/main.rs`) is a thin shell over [`run`]; tests start the server in-process
//! with [`router`] (or [`app`]), [`bind`] and [`serve`]:
//!
//! ```no_run
//! use std::sync::Arc;
//! use dam_core::ImageService;
//! use dam_store_memory::MemoryStore;
//!
//! # async fn demo() -> std::io::Result<()> {
//! let store = Arc::new(MemoryStore::new());
//! let app = dam_server::router(ImageService::new(store.clone(), store), &dam_server::Limits::default());
//! let listener = dam_server::bind("127.0.0.1:0".parse().unwrap()).await?;
//! let shutdown = dam_server::shutdown_signal()?;
//! println!("listening on http://{}", listener.local_addr()?);
//! dam_server::serve(listener, app, &dam_server::Limits::default(), shutdown).await
//! # }
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod app;
pub mod cli;
pub mod demo;
mod logging;
pub mod metrics;
pub mod openapi;
mod server;
pub mod startup;

pub use app::{app, router, AppConfig, Limits};
pub use cli::Cli;
pub use logging::log_subscriber;
pub use server::{bind, serve, shutdown_signal};
pub use startup::{run, StartupError};
