//! Versioned migrations: the tables, their indexes and the id counter.
//!
//! `dam_migrations` records each applied version. Migrating takes a transaction-scoped
//! advisory lock named after the schema first, so several processes starting at once on one
//! database apply each migration exactly once.

use tokio_postgres::Client;

/// One migration: a version (applied in ascending order) and the SQL that brings the schema
/// from the previous version to it.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first. Never edit one that has shipped: append a new one.
///
/// Design notes for version 1:
/// - Strings are `COLLATE "C"`: byte-wise comparison of UTF-8, which is code-point order, as
///   the contract asks (§5). The status codes sort `Er < Ok < Re < Up < Vd` under it.
/// - Timestamps are `bigint` Unix seconds: storage holds whole seconds (§8), and filter
///   literals with fractions compare exactly against integers.
/// - Tags are a `text[]` in the row, order kept; `= ANY`/`= ALL` test them.
/// - `dam_id_counter` holds the largest id ever held. Inserts and fixture loads update it in
///   their transaction, so its row lock orders them and an id is never handed out twice.
/// - Each sortable field has an index `(tenant, field, id)`: one tenant's page in that order,
///   id as the tie-break, is an index range scan (descending keys use a backward scan or an
///   incremental sort on the id).
///
/// Design notes for version 2 (replacing version 1's list indexes):
/// - After the id, each list index holds `file_type`, `status` and `num_links`, the small
///   fields lists filter on most, so that a page is a scan in list order that tests those
///   conditions inside the index (`Index Cond`) and reads a row only when they hold, stopping
///   once the page is full; the `$skiptoken` seek is a range bound on the first key of the
///   same scan. They are key columns, not `INCLUDE` columns: PostgreSQL 15 tests conditions
///   on key columns inside the index, while it reads `INCLUDE` columns only in index-only
///   scans. The id before them is unique, so they do not change the order.
/// - A list sorts by its keys and then by the id **ascending** (§3), so `field desc` is
///   `field DESC, id`, which a backward scan of `(tenant, field, id)` does not give (its ids
///   come descending): PostgreSQL sorts each group of equal keys on the id as it reads
///   (an incremental sort). Where values seldom repeat (times, sizes, the reference, which is
///   unique in a tenant) the groups are a row or two and that costs nothing measurable; the
///   fields with a handful of values (`file_type`, `status`, `num_links`) would sort groups
///   of a fifth of a tenant, so they also have an index `(tenant, field DESC, id, …)`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "images, api keys, id counter",
        sql: r#"
CREATE TABLE dam_images (
    id bigint PRIMARY KEY CHECK (id > 0),
    tenant text COLLATE "C" NOT NULL,
    reference text COLLATE "C" NOT NULL,
    file_type text COLLATE "C" NOT NULL,
    status text COLLATE "C" NOT NULL CHECK (status IN ('Er', 'Ok', 'Re', 'Up', 'Vd')),
    num_links bigint NOT NULL CHECK (num_links >= 0),
    created_on bigint NOT NULL,
    modified_on bigint NOT NULL CHECK (modified_on >= created_on),
    tags text[] COLLATE "C" NOT NULL DEFAULT '{}',
    original_url text COLLATE "C",
    thumbnail_url text COLLATE "C",
    thumbnail_medium_url text COLLATE "C",
    thumbnail_preview_url text COLLATE "C",
    width bigint NOT NULL CHECK (width >= 0),
    height bigint NOT NULL CHECK (height >= 0),
    size_in_bytes bigint NOT NULL CHECK (size_in_bytes >= 0),
    CONSTRAINT dam_images_tenant_reference UNIQUE (tenant, reference)
);
CREATE INDEX dam_images_by_id ON dam_images (tenant, id);
CREATE INDEX dam_images_by_reference ON dam_images (tenant, reference, id);
CREATE INDEX dam_images_by_file_type ON dam_images (tenant, file_type, id);
CREATE INDEX dam_images_by_status ON dam_images (tenant, status, id);
CREATE INDEX dam_images_by_num_links ON dam_images (tenant, num_links, id);
CREATE INDEX dam_images_by_created_on ON dam_images (tenant, created_on, id);
CREATE INDEX dam_images_by_modified_on ON dam_images (tenant, modified_on, id);
CREATE INDEX dam_images_by_width ON dam_images (tenant, width, id);
CREATE INDEX dam_images_by_height ON dam_images (tenant, height, id);
CREATE INDEX dam_images_by_size_in_bytes ON dam_images (tenant, size_in_bytes, id);

CREATE TABLE dam_api_keys (
    digest bytea PRIMARY KEY CHECK (length(digest) = 32),
    tenant text COLLATE "C" NOT NULL
);

CREATE TABLE dam_id_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    max_id bigint NOT NULL CHECK (max_id >= 0)
);
INSERT INTO dam_id_counter (max_id) VALUES (0);
"#,
    },
    Migration {
        version: 2,
        name: "indexes in list order with the filter fields",
        sql: r#"
CREATE INDEX dam_images_list_id ON dam_images (tenant, id, file_type, status, num_links);
CREATE INDEX dam_images_list_reference ON dam_images (tenant, reference, id, file_type, status, num_links);
CREATE INDEX dam_images_list_file_type ON dam_images (tenant, file_type, id, status, num_links);
CREATE INDEX dam_images_list_status ON dam_images (tenant, status, id, file_type, num_links);
CREATE INDEX dam_images_list_num_links ON dam_images (tenant, num_links, id, file_type, status);
CREATE INDEX dam_images_list_created_on ON dam_images (tenant, created_on, id, file_type, status, num_links);
CREATE INDEX dam_images_list_modified_on ON dam_images (tenant, modified_on, id, file_type, status, num_links);
CREATE INDEX dam_images_list_width ON dam_images (tenant, width, id, file_type, status, num_links);
CREATE INDEX dam_images_list_height ON dam_images (tenant, height, id, file_type, status, num_links);
CREATE INDEX dam_images_list_size_in_bytes ON dam_images (tenant, size_in_bytes, id, file_type, status, num_links);
CREATE INDEX dam_images_list_file_type_desc ON dam_images (tenant, file_type DESC, id, status, num_links);
CREATE INDEX dam_images_list_status_desc ON dam_images (tenant, status DESC, id, file_type, num_links);
CREATE INDEX dam_images_list_num_links_desc ON dam_images (tenant, num_links DESC, id, file_type, status);
DROP INDEX dam_images_by_id, dam_images_by_reference, dam_images_by_file_type, dam_images_by_status,
    dam_images_by_num_links, dam_images_by_created_on, dam_images_by_modified_on, dam_images_by_width,
    dam_images_by_height, dam_images_by_size_in_bytes;
"#,
    },
];

/// The latest schema version this build knows.
pub(crate) fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the schema (the connection's `search_path`, created first when `schema` is given)
/// up to the latest version. Refuses a database that a newer build migrated further.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), MigrateError> {
    migrate_to(client, schema, latest_version()).await
}

/// Brings the schema up to `target` (at most [`latest_version`]); [`migrate`] with a version
/// of choice, so that tests can build a database as an older build left it.
pub(crate) async fn migrate_to(
    client: &mut Client,
    schema: Option<&str>,
    target: i32,
) -> Result<(), MigrateError> {
    let tx = client.transaction().await?;
    // One lock per schema name, held until commit: concurrent starters wait here.
    let lock_name = format!("dam-store-postgres:{}", schema.unwrap_or(""));
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1::text))",
        &[&lock_name],
    )
    .await?;
    if let Some(schema) = schema {
        // The name was validated to be a plain lower-case identifier.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS dam_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM dam_migrations", &[])
        .await?;
    let current: i32 = row.try_get(0)?;
    if current > latest_version() {
        // Release the lock now, not when the pool gets round to closing the connection.
        tx.rollback().await?;
        return Err(MigrateError::TooNew {
            found: current,
            known: latest_version(),
        });
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO dam_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MigrateError {
    /// The driver failed.
    #[error(transparent)]
    Driver(#[from] tokio_postgres::Error),
    /// The database was migrated by a newer build.
    #[error("the database schema is at version {found}; this build knows up to {known}")]
    TooNew { found: i32, known: i32 },
}
