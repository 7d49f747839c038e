//! # DAM Core
//!
//! The heart of a digital-asset-management image API: the image aggregate, the OData-style
//! query language (`$filter`, `$orderby`, `$top`, `$skip`, `$count`, `$skiptoken`), RFC 9457
//! problem details, the storage traits every adapter implements, and the [`ImageService`]
//! facade an HTTP layer calls. This crate performs no I/O and knows nothing of SQL or HTTP.
//!
//! Data flows one way: request → [`ImageService`] (authenticate, parse, validate) →
//! [`ImageStore`] → response.
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
#[cfg(test)]
mod catalogue;
pub mod error;
pub mod fixture;
pub mod image;
pub mod problem;
pub mod query;
pub mod service;
pub mod store;

pub use auth::{ApiKey, KeyDigest};
pub use error::DamError;
pub use fixture::{Fixture, FixtureError, TenantData};
pub use image::{
    FileType, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp, ValueError,
};
pub use problem::{ProblemDetails, ProblemError};
pub use query::{ListQuery, QueryError};
pub use service::{ImageService, ListResponse, ServiceConfig};
pub use store::{ImagePage, ImageStore, KeyStore, StoreError};
