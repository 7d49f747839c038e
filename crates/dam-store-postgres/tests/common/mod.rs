//! Test support: the database URL (or a clear skip), one schema per store so tests run in
//! parallel, and a store (the kit's forwarding wrapper) that drops its schema when dropped.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dam_store_postgres::{PostgresConfig, PostgresStore};
use dam_store_tests::wrap::Forwarding;
use tokio_postgres::types::FromSqlOwned;
use tokio_postgres::NoTls;

/// The variable that points the tests at a database.
pub const URL_VAR: &str = "DAM_TEST_POSTGRES_URL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The test database's URL; `None` (after saying so) when it is not set. Under `CI=true` a
/// missing URL fails the test: CI never skips silently.
pub fn database_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if in_ci() => panic!("{URL_VAR} is not set, and CI=true: PostgreSQL tests must run"),
        _ => {
            eprintln!("skipped: {URL_VAR} not set");
            None
        }
    }
}

/// A fresh schema name, unique across processes and runs.
pub fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("dam_test_{}_{n}_{nanos:x}", std::process::id())
}

/// An admin connection to the test database (outside any store's pool).
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {URL_VAR} does not answer: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Drops a schema and everything in it, from a thread of its own (so it works from `Drop`,
/// inside or outside a runtime, even while a test unwinds).
pub fn drop_schema(url: &str, schema: &str) {
    let url = url.to_string();
    let schema = schema.to_string();
    let worker = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            let Ok((client, connection)) = tokio_postgres::connect(&url, NoTls).await else {
                return;
            };
            tokio::spawn(async move {
                let _ = connection.await;
            });
            let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
            if let Err(e) = client.batch_execute(&sql).await {
                eprintln!("could not drop test schema {schema}: {e:?}");
            }
        });
    });
    let _ = worker.join();
}

/// A configuration for `url` in `schema`, with a small pool and a short timeout.
pub fn config(url: &str, schema: &str) -> PostgresConfig {
    PostgresConfig::new(url)
        .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"))
        .with_schema(schema)
        .unwrap_or_else(|e| panic!("bad schema {schema}: {e}"))
        .with_pool_size(4)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_timeout(Duration::from_secs(10))
}

/// Connects a store, failing the test with a clear message when the server does not answer.
pub async fn connect(config: PostgresConfig) -> PostgresStore {
    PostgresStore::connect(config)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {URL_VAR} does not answer: {e:?}"))
}

/// A schema of the test database, dropped when the store that holds it is.
pub struct Schema {
    /// The URL the schema lives behind.
    pub url: String,
    /// The schema's name.
    pub name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        drop_schema(&self.url, &self.name);
    }
}

/// A store in a schema of its own, dropped with it: the kit's forwarding store with the
/// schema as its guard.
pub type TestStore = Forwarding<PostgresStore, Schema>;

/// How the tests make and use a [`TestStore`].
pub trait TestStoreExt: Sized {
    /// A fresh, empty store in a new schema.
    async fn create(url: &str) -> Self;

    /// A fresh store, or `None` (said) when no database is configured.
    async fn fresh() -> Option<Self> {
        let url = database_url()?;
        Some(Self::create(&url).await)
    }

    /// A fresh store in a new schema, with `replica` as its read replica and `tune` applied
    /// to its configuration.
    async fn with_replica(
        url: &str,
        replica: &str,
        tune: impl FnOnce(PostgresConfig) -> PostgresConfig,
    ) -> Self;

    /// A fresh store in a new schema whose sessions carry the schema's name as their
    /// application name ([`tagged_url`]), so a test can find them, with `tune` applied to its
    /// configuration.
    async fn tagged(url: &str, tune: impl FnOnce(PostgresConfig) -> PostgresConfig) -> Self;

    /// Another store (its own pool) on the same schema, as a second process would have.
    async fn second(&self) -> PostgresStore;

    /// The first column of every row `sql` gives on an admin connection, `{schema}` in it
    /// standing for the store's schema.
    async fn column<T: FromSqlOwned>(&self, sql: &str) -> Vec<T>;

    /// The URL the schema lives behind.
    fn url(&self) -> &str;

    /// The schema.
    fn schema(&self) -> &str;
}

impl TestStoreExt for TestStore {
    async fn create(url: &str) -> TestStore {
        open(url, false, |c| c).await
    }

    async fn with_replica(
        url: &str,
        replica: &str,
        tune: impl FnOnce(PostgresConfig) -> PostgresConfig,
    ) -> TestStore {
        open(url, false, |c| {
            tune(
                c.with_replica(replica)
                    .unwrap_or_else(|e| panic!("{REPLICA_VAR} is not a PostgreSQL URL: {e}")),
            )
        })
        .await
    }

    async fn tagged(url: &str, tune: impl FnOnce(PostgresConfig) -> PostgresConfig) -> Self {
        open(url, true, tune).await
    }

    async fn second(&self) -> PostgresStore {
        connect(config(self.url(), self.schema())).await
    }

    async fn column<T: FromSqlOwned>(&self, sql: &str) -> Vec<T> {
        let sql = sql.replace("{schema}", self.schema());
        let rows = admin(self.url()).await.query(&sql, &[]).await.unwrap();
        rows.iter().map(|row| row.get(0)).collect()
    }

    fn url(&self) -> &str {
        &self.guard().url
    }

    fn schema(&self) -> &str {
        &self.guard().name
    }
}

/// `url` with `application_name` set to `name`, so that a test can find its store's sessions
/// in `pg_stat_activity` among every other test's.
pub fn tagged_url(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// Waits until no session named `name` is running a statement (`state = 'active'`), e.g.
/// until the server's `statement_timeout` has ended a statement its client abandoned. Fails
/// the test after about 30 s.
pub async fn wait_until_no_active_statement(url: &str, name: &str) {
    wait_for_sessions(&admin(url).await, name, true).await;
}

/// Waits until no session named `name` is left (with `active_only`, none running a
/// statement). Fails the test after about 30 s.
pub async fn wait_for_sessions(db: &tokio_postgres::Client, name: &str, active_only: bool) {
    let sql = if active_only {
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'"
    } else {
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
    };
    for _ in 0..1500 {
        let left: i64 = db.query_one(sql, &[&name]).await.unwrap().get(0);
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sessions of {name} never ended (active only: {active_only})");
}

/// Another session that holds the row of image `id` (`SELECT … FOR UPDATE` in an open
/// transaction), so that the store's writes of that row wait on it, until
/// [`release_after_abandoned`].
pub async fn hold_row(url: &str, schema: &str, id: i64) -> tokio_postgres::Client {
    let db = admin(url).await;
    let sql = format!("BEGIN; SELECT 1 FROM {schema}.dam_images WHERE id = {id} FOR UPDATE");
    db.batch_execute(&sql).await.unwrap();
    db
}

/// Releases the row [`hold_row`] holds once the statements the store abandoned are over: the
/// store gives up on its own clock a moment before the server's `statement_timeout` ends the
/// abandoned statement, and a row released in that gap would let it go through. The store's
/// sessions carry `name` as their application name ([`tagged_url`]).
pub async fn release_after_abandoned(held: tokio_postgres::Client, url: &str, name: &str) {
    wait_until_no_active_statement(url, name).await;
    held.batch_execute("ROLLBACK").await.unwrap();
}

/// The variable that points the replica tests at a hot standby of the test database.
pub const REPLICA_VAR: &str = "DAM_TEST_POSTGRES_REPLICA_URL";

/// The primary's and the standby's URLs when both are set and the standby answers as a
/// standby; `None` (after saying so) otherwise. Under `CI=true` a standby that is named but
/// does not answer as one fails the test. An unset variable is a skip even then: `.ci/run`
/// sets it (and fails when it cannot make the standby), while a developer's
/// `CI=true cargo test` on a machine without a standby still runs everything else.
pub async fn replica_urls() -> Option<(String, String)> {
    let primary = database_url()?;
    let replica = match std::env::var(REPLICA_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!("skipped: {REPLICA_VAR} not set (scripts/pg-standby.sh prints it)");
            return None;
        }
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        let (client, connection) = tokio_postgres::connect(&replica, NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let row = client.query_one("SELECT pg_is_in_recovery()", &[]).await?;
        row.try_get::<_, bool>(0)
    })
    .await;
    match answer {
        Ok(Ok(true)) => Some((primary, replica)),
        other if in_ci() => {
            panic!("the standby at {REPLICA_VAR} does not answer as a standby (CI=true): {other:?}")
        }
        other => {
            eprintln!(
                "skipped: the standby at {REPLICA_VAR} does not answer as a standby: {other:?}"
            );
            None
        }
    }
}

/// A store in a new schema of the database at `url`, with `tune` applied to its
/// configuration; with `tagged`, its sessions carry the schema's name as their application
/// name ([`tagged_url`]).
async fn open(
    url: &str,
    tagged: bool,
    tune: impl FnOnce(PostgresConfig) -> PostgresConfig,
) -> TestStore {
    let name = unique_schema();
    let sessions_url = if tagged {
        tagged_url(url, &name)
    } else {
        url.to_string()
    };
    let store = connect(tune(config(&sessions_url, &name))).await;
    let url = url.to_string();
    Forwarding::new(store, Schema { url, name })
}
