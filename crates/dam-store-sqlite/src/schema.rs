//! Connection settings and the schema, migrated step by step under `PRAGMA user_version`.

use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::AdapterError;

/// The migrations, in order: the database is at version `n` once the first `n` have run.
/// A step is never edited once released; changes come as new steps.
const MIGRATIONS: &[&str] = &[
    // 1: tenants, key digests, images, tags, and the largest id ever held.
    "CREATE TABLE meta (
         key   TEXT PRIMARY KEY,
         value INTEGER NOT NULL
     ) WITHOUT ROWID;
     INSERT INTO meta (key, value) VALUES ('max_image_id', 0);

     CREATE TABLE tenants (
         id   INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     );

     -- Keys only as their SHA-256 digest, never in clear.
     CREATE TABLE api_keys (
         digest    BLOB PRIMARY KEY CHECK (length(digest) = 32),
         tenant_id INTEGER NOT NULL REFERENCES tenants (id)
     ) WITHOUT ROWID;

     -- Timestamps are unix seconds; status is its two-letter code, so that text order is
     -- the order of the codes (Er < Ok < Re < Up < Vd).
     CREATE TABLE images (
         id                    INTEGER PRIMARY KEY,
         tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
         reference             TEXT NOT NULL,
         file_type             TEXT NOT NULL,
         status                TEXT NOT NULL CHECK (status IN ('Er', 'Ok', 'Re', 'Up', 'Vd')),
         num_links             INTEGER NOT NULL,
         created_on            INTEGER NOT NULL,
         modified_on           INTEGER NOT NULL,
         original_url          TEXT,
         thumbnail_url         TEXT,
         thumbnail_medium_url  TEXT,
         thumbnail_preview_url TEXT,
         width                 INTEGER NOT NULL,
         height                INTEGER NOT NULL,
         size_in_bytes         INTEGER NOT NULL,
         UNIQUE (tenant_id, reference)
     );

     -- One index per sortable field within a tenant, with the id tie-break.
     CREATE INDEX images_by_file_type     ON images (tenant_id, file_type, id);
     CREATE INDEX images_by_status        ON images (tenant_id, status, id);
     CREATE INDEX images_by_num_links     ON images (tenant_id, num_links, id);
     CREATE INDEX images_by_created_on    ON images (tenant_id, created_on, id);
     CREATE INDEX images_by_modified_on   ON images (tenant_id, modified_on, id);
     CREATE INDEX images_by_width         ON images (tenant_id, width, id);
     CREATE INDEX images_by_height        ON images (tenant_id, height, id);
     CREATE INDEX images_by_size_in_bytes ON images (tenant_id, size_in_bytes, id);
     CREATE INDEX images_by_id            ON images (tenant_id, id);

     CREATE TABLE image_tags (
         image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
         position INTEGER NOT NULL,
         tag      TEXT NOT NULL,
         PRIMARY KEY (image_id, position)
     ) WITHOUT ROWID;
     CREATE INDEX image_tags_by_tag ON image_tags (tag, image_id);",
    // 2: newest first. The common list orders by createdOn descending, which no index of step 1
    // serves with its ascending id tie-break (a backward scan yields ids descending), so SQLite
    // sorted a filtered subset instead. This index is in that exact order and carries the small
    // fields lists filter on most, so a page is a range scan that rejects rows without reading
    // the table, stopping once the page is full. The planner prefers it only with statistics:
    // see `optimize`.
    "CREATE INDEX images_by_created_on_desc
         ON images (tenant_id, created_on DESC, id, file_type, status, num_links);",
    // 3: each image's tags beside it, as one JSON array (NULL for none), so that a page is read
    // by one statement with no lookup per image. `image_tags` stays the tags' source of truth
    // for filters (`tags/any`, `tags/all` and its index); both are written in one transaction,
    // and tags never change after an insert.
    "ALTER TABLE images ADD COLUMN tags TEXT;
     UPDATE images SET tags = (
         SELECT json_group_array(image_tags.tag ORDER BY image_tags.position)
         FROM image_tags WHERE image_tags.image_id = images.id)
     WHERE EXISTS (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id);",
];

/// The schema version this adapter writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Settings every connection gets.
pub(crate) fn configure(conn: &Connection, busy_timeout: Duration) -> Result<(), AdapterError> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Safe with WAL: a commit survives a crash of the process, only an OS crash may lose the
    // last transactions (never corrupting the file).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The query planner stability guarantee: a statement's plan never depends on the values
    // bound to it. Without it, a statement whose plan looked at a parameter (the `LIMIT ?` of
    // every page, a bound value probed against the `sqlite_stat4` samples) is compiled anew at
    // each run after its parameters are bound, so the statement cache saved nothing: that
    // re-compiling was a quarter of the SQLite server's time under a list load.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Switches a file database to WAL mode (a no-op on an in-memory one).
pub(crate) fn enable_wal(conn: &Connection) -> Result<(), AdapterError> {
    let _mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    Ok(())
}

/// Refreshes the planner's statistics (`sqlite_stat1`) of tables that have none or have grown
/// or shrunk tenfold since they were gathered, sampling at most a few thousand rows per index
/// so that it stays in the milliseconds on large files. Without statistics SQLite guesses that
/// any range test narrows a tenant's rows more than an ordered scan would, and sorts.
///
/// Statistics only guide the planner: a failure (another process holding the write lock past
/// the busy timeout) leaves the previous ones, and is not an error of the caller's operation.
pub(crate) fn optimize(conn: &Connection) {
    // 0x10000: check every table, not only those this connection planned with;
    // 0x10: with the analysis limit; 0x2: run ANALYZE where needed.
    let _ignored = conn.execute_batch("PRAGMA optimize = 0x10012");
}

/// The schema version of the database.
pub(crate) fn version(conn: &Connection) -> Result<i64, AdapterError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the schema up to [`SCHEMA_VERSION`], each step in its own write transaction so two
/// processes opening one file never both migrate it. A database of a version this adapter does
/// not know (written by a newer one) is refused, never altered.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), AdapterError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if !(0..=SCHEMA_VERSION).contains(&current) {
            return Err(AdapterError::UnknownSchema {
                found: current,
                known: SCHEMA_VERSION,
            });
        }
        let Some(step) = usize::try_from(current)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
        else {
            return Ok(());
        };
        tx.execute_batch(step)?;
        // PRAGMA takes no parameters; the number comes from this code, not from input.
        tx.execute_batch(&format!("PRAGMA user_version = {}", current + 1))?;
        tx.commit()?;
    }
}
