//! A SQLite [`dam_core::store::ImageStore`] and [`dam_core::store::KeyStore`] for DAM Core.
//!
//! One database file in WAL mode holds tenants, API key digests (SHA-256, never the key),
//! images and their tags. The adapter creates and migrates its schema itself, versioned with
//! `PRAGMA user_version`. Statements run on tokio's blocking threads over a small pool of the
//! adapter's own connections: one writer and a few readers, which WAL lets read while the
//! writer writes.
//!
//! `$filter` and `$orderby` are translated to SQL with every literal a bound parameter, and
//! with exactly the semantics of the core's reference ([`dam_core::testing::select`]):
//! case-sensitive, byte-wise string tests (no `LIKE`), code-point order, exact datetime
//! fractions, and two-valued logic over the nullable URL fields. Every write is one
//! `BEGIN IMMEDIATE` transaction, so a delete's check and removal cannot be separated.
//!
//! Any storage fault — a missing directory, a file that is not a database, a lock held past
//! the busy timeout — is a [`dam_core::store::StoreError::Backend`], never a panic; its source is for logs.
//!
//! ```
//! use std::sync::Arc;
//! use dam_core::{Fixture, ImageService};
//! use dam_core::store::{ImageStore, SeedStore};
//! use dam_store_sqlite::{SqliteOptions, SqliteStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let dir = std::env::temp_dir().join(format!("dam-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let options = SqliteOptions::default().readers(2);
//! let store = Arc::new(SqliteStore::open_with(dir.join("dam.sqlite"), options)?);
//! let fixture = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": ["acme-key"],
//!   "images": [ { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
//!   "createdOn": "2024-04-05T08:44:33" } ] } ] }"#)?;
//! if store.is_empty().await? {
//!     store.load_fixture(&fixture).await?;
//! }
//! let service = ImageService::new(store.clone(), store);
//! let page = service
//!     .list_images(Some(b"acme-key"), Some("$count=true"), "/image")
//!     .await
//!     .map_err(|p| p.detail)?;
//! assert_eq!(page.count, Some(1));
//! # drop(service);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod row;
mod schema;
mod sql;
mod store;

pub use config::SqliteOptions;
#[cfg(feature = "metrics")]
pub use store::describe_metrics;
pub use store::{SqliteStore, LIST_CACHE_LOOKUPS};

/// The schema version this adapter creates (`PRAGMA user_version` of its files).
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;
