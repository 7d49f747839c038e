//! Conformance kit for DAM Core storage adapters (work in progress).
#![warn(missing_docs)]
