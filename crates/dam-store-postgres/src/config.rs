//! How to reach the database: the connection URL, the schema the store lives in, the pool's
//! size and its timeouts, and the hot standbys (read replicas) that may serve lists.

use std::str::FromStr;
use std::time::Duration;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The connection string is not a PostgreSQL URL or key/value string. The driver's
    /// message is kept as the source; it may hold the URL, so log it with care.
    #[error("invalid PostgreSQL connection string")]
    Url(#[source] tokio_postgres::Error),
    /// A schema name must be 1–63 characters of `a`–`z`, `0`–`9` and `_`, not starting with a
    /// digit (so it never needs quoting).
    #[error(
        "invalid schema name: 1 to 63 characters of a-z, 0-9 and _, not starting with a digit"
    )]
    Schema,
    /// The pool must hold at least one connection.
    #[error("the pool size must be at least 1")]
    PoolSize,
}

/// Settings of a [`crate::PostgresStore`].
///
/// ```
/// use std::time::Duration;
/// use dam_store_postgres::PostgresConfig;
///
/// let config = PostgresConfig::new("postgres://postgres@127.0.0.1:5432/test")
///     .unwrap()
///     .with_schema("dam")
///     .unwrap()
///     .with_pool_size(4)
///     .unwrap()
///     .with_timeout(Duration::from_secs(2));
/// assert_eq!(config.schema(), Some("dam"));
/// assert!(PostgresConfig::new("postgres://h/db").unwrap().with_schema("Bad-Name").is_err());
/// ```
#[derive(Clone)]
pub struct PostgresConfig {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) schema: Option<String>,
    pub(crate) pool_size: usize,
    pub(crate) timeout: Duration,
    pub(crate) wait_timeout: Option<Duration>,
    pub(crate) replicas: Vec<tokio_postgres::Config>,
    pub(crate) replica_wait: Duration,
    pub(crate) replica_max_lag: Duration,
    pub(crate) replica_check_interval: Duration,
}

impl std::fmt::Debug for PostgresConfig {
    // The driver's config may hold a password: show only what is harmless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field("wait_timeout", &self.wait_timeout)
            .field("replicas", &self.replicas.len())
            .field("replica_wait", &self.replica_wait)
            .field("replica_max_lag", &self.replica_max_lag)
            .field("replica_check_interval", &self.replica_check_interval)
            .finish_non_exhaustive()
    }
}

impl PostgresConfig {
    /// The default number of pooled connections.
    pub const DEFAULT_POOL_SIZE: usize = 8;
    /// The default bound on connecting, waiting for a pooled connection, and each operation.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default bound on a write's wait for the replicas to replay it.
    pub const DEFAULT_REPLICA_WAIT: Duration = Duration::from_secs(1);
    /// The default lag past which a replica leaves the rotation.
    pub const DEFAULT_REPLICA_MAX_LAG: Duration = Duration::from_secs(5);
    /// The default time between two health checks of the replicas.
    pub const DEFAULT_REPLICA_CHECK_INTERVAL: Duration = Duration::from_secs(1);

    /// A configuration from a connection string (`postgres://user@host:port/db?…` or the
    /// key/value form), with the default schema (the server's `search_path`), pool size and
    /// timeout.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        let pg = tokio_postgres::Config::from_str(url).map_err(ConfigError::Url)?;
        Ok(PostgresConfig {
            pg,
            schema: None,
            pool_size: Self::DEFAULT_POOL_SIZE,
            timeout: Self::DEFAULT_TIMEOUT,
            wait_timeout: None,
            replicas: Vec::new(),
            replica_wait: Self::DEFAULT_REPLICA_WAIT,
            replica_max_lag: Self::DEFAULT_REPLICA_MAX_LAG,
            replica_check_interval: Self::DEFAULT_REPLICA_CHECK_INTERVAL,
        })
    }

    /// Adds a hot standby of the database (a read replica, e.g. streaming replication with
    /// `hot_standby = on`) that may answer lists and counts. Everything else — writes, key
    /// lookups, `is_empty`, migrations — goes to the primary, and the replica gets the same
    /// schema, pool size and timeouts.
    ///
    /// Reads stay consistent with writes, across processes: a list goes to a replica only
    /// when the replica has replayed everything the primary had flushed when the list began
    /// (else it runs on the primary), and a write waits, up to
    /// [`Self::with_replica_wait`], for the replicas in rotation to replay it, so that lists
    /// after it can stay on them. A replica that is down, fails, lags past
    /// [`Self::with_replica_max_lag`] or does not catch up with a write in time leaves the
    /// rotation until a health check (every [`Self::with_replica_check_interval`]) finds it
    /// caught up. This relies on the primary's `synchronous_commit` being at least `local`
    /// (the default, `on`, is).
    ///
    /// ```
    /// use dam_store_postgres::PostgresConfig;
    ///
    /// let config = PostgresConfig::new("postgres://postgres@10.0.0.1:5432/dam")
    ///     .unwrap()
    ///     .with_replica("postgres://postgres@10.0.0.2:5432/dam")
    ///     .unwrap();
    /// assert_eq!(config.replicas(), 1);
    /// assert!(config.clone().with_replica("not a url").is_err());
    /// ```
    pub fn with_replica(mut self, url: &str) -> Result<Self, ConfigError> {
        let pg = tokio_postgres::Config::from_str(url).map_err(ConfigError::Url)?;
        self.replicas.push(pg);
        Ok(self)
    }

    /// Bounds how long a successful write waits for the replicas in rotation to replay it
    /// (default [`Self::DEFAULT_REPLICA_WAIT`]); a replica that has not caught up by then
    /// leaves the rotation. `Duration::ZERO` turns the wait off (lists after a write then run
    /// on the primary until the replicas have replayed it). The wait is kept below half of
    /// [`Self::with_timeout`], so that a lagging replica never turns a write into a timeout.
    pub fn with_replica_wait(mut self, wait: Duration) -> Self {
        self.replica_wait = wait;
        self
    }

    /// A replica that is this far behind the primary (the time since the primary flushed the
    /// oldest position the replica has not replayed, seen by the health checks) leaves the
    /// rotation (default [`Self::DEFAULT_REPLICA_MAX_LAG`]).
    pub fn with_replica_max_lag(mut self, lag: Duration) -> Self {
        self.replica_max_lag = lag;
        self
    }

    /// How often a background task checks each replica's health and lag, and brings back
    /// into rotation those that caught up (default
    /// [`Self::DEFAULT_REPLICA_CHECK_INTERVAL`]; at least 10 ms).
    pub fn with_replica_check_interval(mut self, interval: Duration) -> Self {
        self.replica_check_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// The number of replicas configured.
    pub fn replicas(&self) -> usize {
        self.replicas.len()
    }

    /// Keeps the store's tables in `schema` (created when missing): every pooled connection
    /// starts with `search_path` set to it. Lets several stores share one database.
    pub fn with_schema(mut self, schema: &str) -> Result<Self, ConfigError> {
        let valid = (1..=63).contains(&schema.len())
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(ConfigError::Schema);
        }
        self.schema = Some(schema.to_string());
        Ok(self)
    }

    /// At most `size` connections at once (default [`Self::DEFAULT_POOL_SIZE`]).
    pub fn with_pool_size(mut self, size: usize) -> Result<Self, ConfigError> {
        if size == 0 {
            return Err(ConfigError::PoolSize);
        }
        self.pool_size = size;
        Ok(self)
    }

    /// Bounds connecting, waiting for a free pooled connection, each statement (as the
    /// server's `statement_timeout`) and each store operation as a whole (default
    /// [`Self::DEFAULT_TIMEOUT`]). Past it an operation fails with
    /// [`dam_core::store::StoreError::Backend`] instead of hanging.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bounds only the wait for a free pooled connection, when it should be shorter than
    /// [`Self::with_timeout`] (a busy service sheds load sooner than a statement is stopped).
    pub fn with_wait_timeout(mut self, wait: Duration) -> Self {
        self.wait_timeout = Some(wait);
        self
    }

    /// How long an operation waits for a free pooled connection.
    pub(crate) fn pool_wait(&self) -> Duration {
        self.wait_timeout.unwrap_or(self.timeout).min(self.timeout)
    }

    /// The schema the store lives in, when one was set.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The driver configuration every pooled primary connection is made with: the connect timeout,
    /// the timeout as `statement_timeout`, and the schema as the session's `search_path`
    /// (startup options, so they hold for the connection's whole life, `RESET ALL` included).
    pub(crate) fn connection_config(&self) -> tokio_postgres::Config {
        self.session_config(&self.pg)
    }

    /// [`Self::connection_config`] for another server (a replica): the same session settings.
    pub(crate) fn session_config(&self, server: &tokio_postgres::Config) -> tokio_postgres::Config {
        let mut pg = server.clone();
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(self.timeout);
        }
        let mut options = pg.get_options().unwrap_or_default().to_string();
        // The server gives up on a statement when the store does, so a statement that timed
        // out (a delete waiting on a lock, say) does not run on behind the caller's back.
        let millis = self.timeout.as_millis().max(1);
        options.push_str(&format!(" -c statement_timeout={millis}"));
        if let Some(schema) = &self.schema {
            // The name was checked to need no quoting or escaping.
            options.push_str(&format!(" -c search_path={schema}"));
        }
        pg.options(options.trim_start());
        pg
    }
}
