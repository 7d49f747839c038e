//! The query language of `GET /image` (contract §3, §5): `$filter`, `$orderby`, `$top`,
//! `$skip`, `$count`, and the server-written `$skiptoken` (§3.1).
//!
//! Text goes through three steps: the query string is form-decoded and split into options
//! ([`parse_query_string`]); `$filter` is cut into tokens that keep positions, then parsed
//! and validated against the image schema into a typed [`Filter`] ([`parse_filter`]); `$orderby`
//! becomes [`SortKey`](crate::store::SortKey)s ([`parse_orderby`]). Every failure is a [`QueryError`] (a 400).

mod error;
pub(crate) mod eval;
mod filter;
pub(crate) mod lower;
pub(crate) mod model;
mod options;
mod orderby;
mod skiptoken;

pub use error::QueryError;
pub use filter::{
    parse_filter, MAX_DEPTH, MAX_FILTER_BYTES, MAX_IN_ITEMS, MAX_NODES, MAX_STRING_BYTES,
};
pub use model::{FieldType, Filter, Instant, Value, MAX_TOP};
pub use options::{parse_query_string, ListRequest, MAX_QUERY_STRING_BYTES};
pub use orderby::{parse_orderby, MAX_ORDERBY_BYTES};
pub use skiptoken::{Position, MAX_SKIPTOKEN_CHARS, SKIPTOKEN_VERSION};
