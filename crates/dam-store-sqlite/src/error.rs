//! The adapter's own failures, all of which reach callers as [`StoreError::Backend`].

use dam_core::ValueError;

use dam_core::store::StoreError;

/// The adapter's name in [`StoreError::Backend`].
pub(crate) const STORE: &str = "sqlite";

/// Why the adapter failed. Messages are for operators' logs: they name columns and versions,
/// never a key, a digest or a file path.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdapterError {
    /// The driver failed (I/O, lock timeout, corrupt file, constraint). Shown by
    /// [`driver_message`]: the driver's message without the statement's text.
    #[error("{}", driver_message(.0))]
    Sqlite(rusqlite::Error),
    /// The file holds a schema version this adapter does not know.
    #[error("the database has schema version {found}; this adapter knows versions 0 to {known}")]
    UnknownSchema {
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this adapter writes.
        known: i64,
    },
    /// A stored value breaks the domain's rules: the file was altered outside the adapter.
    #[error("stored column {column} holds an invalid value: {source}")]
    InvalidRow {
        /// The column.
        column: &'static str,
        /// The rule it breaks.
        #[source]
        source: ValueError,
    },
    /// A stored value is not of its column's kind (`status` not text, `tags` neither NULL nor
    /// a JSON array of strings): the file was altered outside the adapter.
    #[error("stored column {column} holds a value of the wrong kind")]
    InvalidColumn {
        /// The column.
        column: &'static str,
    },
    /// Every id up to `i64::MAX` has been handed out.
    #[error("image ids are exhausted")]
    IdsExhausted,
    /// A connection was lost (its task panicked) and an in-memory database cannot be reopened.
    #[error("the in-memory database's connection was lost")]
    MemoryLost,
    /// The blocking task running a statement did not finish (it panicked or was cancelled).
    #[error("the database task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// No connection of the pool became free in time (every one busy for longer).
    #[error("no database connection became free within {0:?}")]
    PoolTimeout(std::time::Duration),
    /// The pool was closed.
    #[error("the connection pool is closed")]
    PoolClosed,
}

impl From<rusqlite::Error> for AdapterError {
    fn from(error: rusqlite::Error) -> Self {
        AdapterError::Sqlite(error)
    }
}

/// The driver's message for a log line. rusqlite's own `Display` of a statement that fails to
/// prepare appends the whole SQL text (`… in SELECT … at offset 69`); the contract keeps SQL
/// out of logs (§6, §8), so only the message, the offset and the result code are kept.
fn driver_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => format!("{msg} (at offset {offset} of the statement): {error}"),
        rusqlite::Error::SqliteFailure(code, Some(msg)) => format!("{msg}: {code}"),
        other => other.to_string(),
    }
}

impl From<AdapterError> for StoreError {
    fn from(error: AdapterError) -> Self {
        StoreError::backend(STORE, error)
    }
}

/// The outcome of an operation: a store error of meaning (not found, conflict, …) or an
/// adapter failure.
#[derive(Debug)]
pub(crate) enum OpError {
    /// What the caller matches on.
    Store(StoreError),
    /// A backend failure.
    Adapter(AdapterError),
}

impl From<AdapterError> for OpError {
    fn from(error: AdapterError) -> Self {
        OpError::Adapter(error)
    }
}

impl From<rusqlite::Error> for OpError {
    fn from(error: rusqlite::Error) -> Self {
        OpError::Adapter(AdapterError::Sqlite(error))
    }
}

impl From<StoreError> for OpError {
    fn from(error: StoreError) -> Self {
        OpError::Store(error)
    }
}

impl From<OpError> for StoreError {
    fn from(error: OpError) -> Self {
        match error {
            OpError::Store(e) => e,
            OpError::Adapter(e) => e.into(),
        }
    }
}
