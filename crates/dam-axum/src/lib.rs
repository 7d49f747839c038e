//! # dam-axum
//!
//! DAM Core's HTTP face for [axum]: `GET /image` and `DELETE /image/{id}` over the
//! [`ImageService`](dam_core::ImageService) facade, as a router that mounts in any axum
//! application — merged beside the host's routes, or nested under a prefix.
//!
//! - [`DamApi`] configures it (tenant resolution, public base path, `Retry-After`) and gives
//!   the [`DamApi::router`] (the two routes, their 405 answers, no fallback) and a 404
//!   handler for the host's fallback ([`DamApi::not_found`]).
//! - [`TenantResolver`] is how a request's tenant is found: [`ApiKeyResolver`] (the
//!   contract's `X-API-KEY`, the default), [`TenantFromExtensions`] (the host's middleware
//!   resolved it), or the host's own.
//! - [`HttpLayers`] are the body limit, time limit, panic catching, problem answers, HTTP
//!   [`metrics`] and request log with its [`RequestId`], to apply where the host wants them.
//! - [`ProblemResponse`] is the RFC 9457 answer, usable in the host's own handlers.
//! - [`RateLimit`] limits each tenant's requests per second ([`DamApi::with_rate_limit`]),
//!   per process.
//! - [`openapi`] (and [`DamApi::openapi`]) is the OpenAPI 3.1 document of the routes, to
//!   merge into the host's own.
//!
//! `instance` and `@nextLink` carry the path the client used ([`OriginalUri`]), so links stay
//! inside the mount.
//!
//! ```
//! use std::sync::Arc;
//! use axum::Router;
//! use dam_axum::DamApi;
//! use dam_core::ImageService;
//! use dam_store_memory::MemoryStore;
//!
//! let store = Arc::new(MemoryStore::new());
//! let dam = DamApi::new(ImageService::new(store.clone(), store));
//! let app: Router = Router::new()
//!     .merge(dam.layers().apply(dam.router()))
//!     .fallback(dam.not_found());
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).
//!
//! [`OriginalUri`]: axum::extract::OriginalUri
// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod base_path;
mod layers;
pub mod metrics;
mod openapi;
mod ops;
mod problem;
mod rate_limit;
mod request_id;
mod tenant;

pub use api::{router, DamApi, DEFAULT_RETRY_AFTER};
/// The attribute that [`TenantResolver`] implementations carry, re-exported so that a host
/// needs no dependency of its own for it.
pub use async_trait::async_trait;
pub use base_path::{BasePath, BasePathError, MAX_BASE_PATH_BYTES};
pub use layers::{HttpLayers, HttpLimits};
pub use openapi::{openapi, prefix_paths};
pub use ops::{ops_openapi, PROMETHEUS_CONTENT_TYPE};
pub use problem::ProblemResponse;
pub use rate_limit::RateLimit;
pub use request_id::{RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
pub use tenant::{ApiKeyResolver, Refusal, TenantFromExtensions, TenantResolver, API_KEY_HEADER};
/// The OpenAPI types of [`openapi`]'s document, re-exported so that a host needs no
/// dependency of its own to merge or serve it.
pub use utoipa;
