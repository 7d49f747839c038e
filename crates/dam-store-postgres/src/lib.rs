//! A PostgreSQL [`dam_core::store::ImageStore`] and [`dam_core::store::KeyStore`] for DAM Core.
//!
//! - **Driver**: `tokio-postgres` with a `deadpool-postgres` pool. Every operation is bounded
//!   by one timeout (connecting, waiting for a pooled connection, running); a connection
//!   fault is a [`dam_core::store::StoreError::Backend`], and broken connections are replaced by the
//!   pool, so the store recovers by itself when the database comes back.
//! - **Schema**: versioned migrations (`dam_migrations`), applied by
//!   [`PostgresStore::connect`] under an advisory lock, so processes may start together. An
//!   optional schema name keeps several stores (or tests) apart in one database.
//! - **Queries**: the typed filter becomes SQL with every value a bound parameter, with the
//!   core's exact semantics (byte-wise strings under `COLLATE "C"`, two-valued logic on null
//!   URLs, exact datetime fractions against whole-second columns, no `LIKE`).
//! - **Concurrency**: delete and status changes are single statements that lock the row, so
//!   a processing image is never deleted and two deletes give one success, even from several
//!   processes. Ids come from a counter row updated in the inserting transaction: an id is
//!   greater than every id the store ever held.
//! - **Keys** are kept only as SHA-256 digests (`bytea`).
//! - **Read replicas** ([`PostgresConfig::with_replica`]): lists and counts go to a hot
//!   standby that has replayed the primary's flush position (else to the primary), writes
//!   wait (bounded) for the replicas in rotation, and a replica that is down or lags leaves
//!   the rotation without an error reaching the caller ([`PostgresStore::replica_stats`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use dam_core::ImageService;
//! use dam_store_postgres::{PostgresConfig, PostgresStore};
//!
//! let config = PostgresConfig::new("postgres://postgres@127.0.0.1:5432/dam")?.with_schema("dam")?;
//! let store = Arc::new(PostgresStore::connect(config).await?);
//! let service = ImageService::new(store.clone(), store);
//! # Ok(()) }
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
mod replica;
mod row;
mod schema;
mod sql;
mod store;

pub use config::{ConfigError, PostgresConfig};
pub use replica::ReplicaStats;
pub use store::PostgresStore;
