//! The adapter's failures and how they reach callers: a driver fault is a
//! [`StoreError::Backend`] (its source for logs only), a unique violation a conflict.

use dam_core::store::StoreError;
use tokio_postgres::error::SqlState;

/// The adapter's name in [`StoreError::Backend`].
pub(crate) const STORE: &str = "postgres";

pub(crate) fn backend(
    error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
) -> StoreError {
    StoreError::backend(STORE, error)
}

/// A [`StoreError::Backend`] for a driver error, except a unique violation, which only a
/// write racing a fixture load can meet: that is a conflict.
pub(crate) fn driver(error: tokio_postgres::Error) -> StoreError {
    if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return StoreError::Conflict(
            "an image id, a reference or an API key of the write is already held".into(),
        );
    }
    backend(error)
}

/// Why a row could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    /// A column of an unexpected type.
    #[error(transparent)]
    Driver(#[from] tokio_postgres::Error),
    /// A value that breaks a domain rule.
    #[error("corrupt image row (id {id}): {reason}")]
    Corrupt { id: i64, reason: String },
}
