//! An in-memory [`dam_core::store::ImageStore`] and [`dam_core::store::KeyStore`] for DAM Core.
//!
//! All data sits behind one lock, so every operation — delete's check-and-remove above all —
//! is atomic with respect to every other. Listing evaluates the core's reference semantics.
//!
//! ```
//! use std::sync::Arc;
//! use dam_core::ImageService;
//! use dam_store_memory::MemoryStore;
//!
//! let store = Arc::new(MemoryStore::new());
//! let service = ImageService::new(store.clone(), store);
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod store;

pub use store::MemoryStore;
