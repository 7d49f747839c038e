//! # DAM Core
//!
//! The heart of a digital-asset-management image API: the image aggregate, the OData-style
//! query language (`$filter`, `$orderby`, `$top`, `$skip`, `$count`, `$skiptoken`), RFC 9457
//! problem details, the storage traits every adapter implements, and the [`ImageService`]
//! facade an HTTP layer calls. This crate performs no I/O and knows nothing of SQL or HTTP.
//!
//! Data flows one way: request → [`ImageService`] (authenticate, parse, validate) →
//! [`store::ImageStore`] → response.
//!
//! The API comes in tiers, each type with one path:
//! - the root: what an embedder needs — the service, its errors and problem documents, the
//!   domain values, fixtures;
//! - [`query`]: the query language as text (parsers, limits, the typed filter);
//! - [`store`]: what an adapter author needs — the storage traits, [`store::StoreError`],
//!   [`store::ListQuery`] and its storage-ready [`store::Condition`];
//! - `testing` (cargo feature `testing`): the reference semantics adapters are judged by.
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
// The error-branch catalogue lives with the tests but compiles inside the crate: its table is
// tied to the code by exhaustive matches over the crate's non-exhaustive error enums.
#[cfg(test)]
#[path = "../tests/catalogue/mod.rs"]
mod catalogue;
mod error;
mod fixture;
mod image;
#[cfg(feature = "metrics")]
mod metered;
mod problem;
pub mod query;
mod service;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{ApiKey, KeyDigest, MAX_KEY_LEN};
pub use error::{error_chain, DamError};
pub use fixture::{Fixture, FixtureError, TenantData};
pub use image::{
    FileType, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp, ValueError,
};
pub use problem::{
    ProblemDetails, ProblemError, ProblemKind, CONTENT_TYPE as PROBLEM_CONTENT_TYPE,
    DEFAULT_TYPE_BASE as DEFAULT_PROBLEM_TYPE_BASE,
};
pub use service::{ImageService, ListResponse, ServiceConfig, READY_TIMEOUT};
