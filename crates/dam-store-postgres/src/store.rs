//! [`PostgresStore`]: the storage traits over a pool of PostgreSQL connections.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dam_core::store::{
    ImagePage, ImageStore, KeyStore, ListQuery, PoolStatus, SeedStore, StoreError,
};
use dam_core::{error_chain, Fixture, Image, ImageId, ImageStatus, KeyDigest, TenantId, Timestamp};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, IsolationLevel, NoTls, Row, Statement};

use crate::config::PostgresConfig;
use crate::error::{backend, driver};
use crate::replica::{ReplicaStats, Replicas};
use crate::row::{image_from_row, IMAGE_COLUMNS};
use crate::schema;
use crate::sql::SqlBuilder;

/// Rows per statement when a fixture is loaded.
const FIXTURE_CHUNK: usize = 1000;

/// A [`dam_core::store::ImageStore`] and [`dam_core::store::KeyStore`] on PostgreSQL.
///
/// Every operation takes a pooled connection and is bounded by the configured timeout; a
/// connection fault is a [`StoreError::Backend`], and the pool replaces broken connections
/// by itself, so the store recovers when the database comes back. Several processes may
/// share one database: every write is a single statement or a transaction that locks what
/// it checks.
pub struct PostgresStore {
    pool: Pool,
    timeout: Duration,
    replicas: Option<Arc<Replicas>>,
    health: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(health) = &self.health {
            health.abort();
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .field("timeout", &self.timeout)
            .field("replicas", &self.replica_stats())
            .finish()
    }
}

impl PostgresStore {
    /// Connects, creates the schema when the configuration names one, and applies pending
    /// migrations. With replicas configured, puts those that have replayed the migrations
    /// into rotation (a replica that is down is no error: lists go to the primary until it
    /// is back) and starts their health checks.
    ///
    /// Errors: [`StoreError::Backend`] when the server does not answer within the timeout,
    /// refuses the connection, or holds a schema of a newer version.
    pub async fn connect(config: PostgresConfig) -> Result<Self, StoreError> {
        let pool = build_pool(
            config.connection_config(),
            config.pool_size,
            config.pool_wait(),
            config.timeout,
        )?;
        let mut store = PostgresStore {
            pool,
            timeout: config.timeout,
            replicas: Replicas::new(&config)?.map(Arc::new),
            health: None,
        };
        let schema = config.schema.clone();
        store
            .bounded(async {
                let mut client = store.client().await?;
                schema::migrate(&mut client, schema.as_deref())
                    .await
                    .map_err(backend)
            })
            .await?;
        if let Some(replicas) = &store.replicas {
            store.health = Some(replicas.start(&store.pool).await);
        }
        Ok(store)
    }

    /// Which store answered the lists so far, and how many replicas are in rotation (all
    /// zero without replicas). Each list also emits a `debug` event with the field
    /// `answered_by` (`replica` or `primary`).
    pub fn replica_stats(&self) -> ReplicaStats {
        self.replicas
            .as_ref()
            .map_or_else(ReplicaStats::default, |r| r.stats())
    }

    /// After a successful write: the bounded wait for the replicas to replay it.
    async fn replicated(&self) {
        if let Some(replicas) = &self.replicas {
            replicas.wait_for_replay(&self.pool).await;
        }
    }

    /// The schema version this build migrates to.
    pub fn schema_version() -> i32 {
        schema::latest_version()
    }

    /// Not part of the API: brings `config`'s schema to `version` only, as an older build
    /// left it, so that tests can check the later migrations on a database of that version.
    #[doc(hidden)]
    pub async fn migrate_to_version(
        config: &PostgresConfig,
        version: i32,
    ) -> Result<(), StoreError> {
        let connecting = async {
            let (mut client, connection) = config
                .connection_config()
                .connect(NoTls)
                .await
                .map_err(backend)?;
            let driver = tokio::spawn(connection);
            let migrated = schema::migrate_to(&mut client, config.schema.as_deref(), version)
                .await
                .map_err(backend);
            drop(client);
            let _ended = driver.await;
            migrated
        };
        match tokio::time::timeout(config.timeout, connecting).await {
            Ok(result) => result,
            Err(_) => Err(backend("migrating did not finish within the timeout")),
        }
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    /// Runs `operation` within the timeout: past it, a [`StoreError::Backend`].
    async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(result) => result,
            Err(_) => Err(backend(format!(
                "the operation did not finish within {:?}",
                self.timeout
            ))),
        }
    }

    /// A list on the primary, or on a replica that has replayed the writes before it.
    async fn list_images(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<ImagePage, StoreError> {
        if let Some(replicas) = &self.replicas {
            if let Some(page) = replicas.list(&self.pool, tenant, query).await {
                return Ok(page);
            }
        }
        let mut client = self.client().await?;
        let page = Self::list_page(&mut client, tenant, query).await?;
        if let Some(replicas) = &self.replicas {
            replicas.answered_by_primary();
        }
        Ok(page)
    }

    /// One page (and the count, when asked) of a tenant's images, on `client`'s server.
    pub(crate) async fn list_page(
        client: &mut Object,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<ImagePage, StoreError> {
        let mut page = SqlBuilder::new();
        page.push(&format!(
            "SELECT {IMAGE_COLUMNS} FROM dam_images WHERE tenant = "
        ))
        .bind(crate::sql::Param::Text(tenant.as_str().to_string()))
        .push("::text");
        let mut count = SqlBuilder::new();
        count
            .push("SELECT count(*) FROM dam_images WHERE tenant = ")
            .bind(crate::sql::Param::Text(tenant.as_str().to_string()))
            .push("::text");
        if let Some(condition) = query.condition() {
            page.push(" AND ");
            page.push_condition(&condition);
            count.push(" AND ");
            count.push_condition(&condition);
        }
        page.push_order_by(query);
        page.push(" LIMIT ")
            .bind(crate::sql::Param::Int(query.fetch_limit()))
            .push("::bigint");
        // A first page or a `$skiptoken` seek has no OFFSET, and its statement is kept
        // prepared (see `ListStatement`); a `$skip` is planned for its own values.
        let skips = query.offset() > 0;
        if skips {
            page.push(" OFFSET ")
                .bind(crate::sql::Param::Int(query.offset()))
                .push("::bigint");
        }
        let page_statement = ListStatement::prepare(client, &page, !skips).await?;

        let (rows, total) = if query.count {
            let count_statement = ListStatement::prepare(client, &count, true).await?;
            // Page and count from one snapshot, so they agree.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(backend)?;
            let rows = page_statement.query(&*tx, &page).await?;
            // The last page (or the only one) tells the count: no second pass over the matches.
            let total = match query.total_from_fetched(rows.len()) {
                Some(total) => total,
                None => {
                    let total: i64 = count_statement
                        .query(&*tx, &count)
                        .await?
                        .first()
                        .ok_or_else(|| backend("the count returned no row"))?
                        .try_get(0)
                        .map_err(backend)?;
                    u64::try_from(total).map_err(backend)?
                }
            };
            tx.commit().await.map_err(backend)?;
            (rows, Some(total))
        } else {
            let rows = page_statement.query(&***client, &page).await?;
            (rows, None)
        };
        let (rows, has_more) = query.split_page(rows);
        let items = rows
            .iter()
            .map(image_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        Ok(ImagePage {
            items,
            total,
            has_more,
        })
    }

    async fn get_image(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {IMAGE_COLUMNS} FROM dam_images WHERE tenant = $1 AND id = $2"
            ))
            .await
            .map_err(backend)?;
        let row = client
            .query_opt(&statement, &[&tenant.as_str(), &id.get()])
            .await
            .map_err(backend)?;
        row.as_ref()
            .map(image_from_row)
            .transpose()
            .map_err(backend)
    }

    async fn insert_image(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        // Taking the next id locks the counter row until commit: inserts and fixture loads
        // are ordered by it, and a rollback (a clash) gives the id back.
        let sql = format!(
            "WITH next AS (UPDATE dam_id_counter SET max_id = max_id + 1 RETURNING max_id)
             INSERT INTO dam_images ({IMAGE_COLUMNS}, tenant)
             SELECT next.max_id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
             FROM next
             ON CONFLICT (tenant, reference) DO NOTHING
             RETURNING {IMAGE_COLUMNS}"
        );
        let statement = tx.prepare_cached(&sql).await.map_err(backend)?;
        let params: [&(dyn ToSql + Sync); 15] = [
            &image.reference.as_str(),
            &image.file_type.as_str(),
            &image.status.code(),
            &image.num_links,
            &image.created_on.unix_seconds(),
            &image.modified_on.unix_seconds(),
            &image.tags,
            &image.original_url,
            &image.thumbnail_url,
            &image.thumbnail_medium_url,
            &image.thumbnail_preview_url,
            &image.width,
            &image.height,
            &image.size_in_bytes,
            &tenant.as_str(),
        ];
        let row = tx.query_opt(&statement, &params).await.map_err(driver)?;
        let Some(row) = row else {
            tx.rollback().await.map_err(backend)?;
            return Err(StoreError::Conflict(format!(
                "tenant '{tenant}' already has reference '{}'",
                image.reference.as_str()
            )));
        };
        let stored = image_from_row(&row).map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn update_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        let client = self.client().await?;
        // One statement: the row lock orders it with a concurrent delete.
        let statement = client
            .prepare_cached(&format!(
                "UPDATE dam_images SET status = $3, modified_on = GREATEST($4, created_on)
                 WHERE tenant = $1 AND id = $2
                 RETURNING {IMAGE_COLUMNS}"
            ))
            .await
            .map_err(backend)?;
        let row = client
            .query_opt(
                &statement,
                &[
                    &tenant.as_str(),
                    &id.get(),
                    &status.code(),
                    &at.unix_seconds(),
                ],
            )
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        image_from_row(&row).map_err(backend)
    }

    async fn delete_image(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        // Fast path, one statement: under READ COMMITTED a row locked by a concurrent status
        // change is re-read after that commits and the status test re-applied, so a
        // processing image is never deleted, and of two deletes only one sees the row.
        let statement = client
            .prepare_cached(
                "DELETE FROM dam_images
                 WHERE tenant = $1 AND id = $2 AND status NOT IN ('Up', 'Re')
                 RETURNING id",
            )
            .await
            .map_err(backend)?;
        let deleted = client
            .query_opt(&statement, &[&tenant.as_str(), &id.get()])
            .await
            .map_err(backend)?;
        if deleted.is_some() {
            return Ok(());
        }
        // Nothing deleted: missing, or being processed. Tell which under a row lock, so the
        // answer and (if the status changed meanwhile) the delete are one atomic step.
        let tx = client.transaction().await.map_err(backend)?;
        let row = tx
            .query_opt(
                "SELECT status FROM dam_images WHERE tenant = $1 AND id = $2 FOR UPDATE",
                &[&tenant.as_str(), &id.get()],
            )
            .await
            .map_err(backend)?;
        let result = match row {
            None => Err(StoreError::NotFound),
            Some(row) => {
                let code: &str = row.try_get(0).map_err(backend)?;
                let status = ImageStatus::from_code(code).map_err(backend)?;
                if status.is_processing() {
                    Err(StoreError::BeingProcessed)
                } else {
                    tx.execute(
                        "DELETE FROM dam_images WHERE tenant = $1 AND id = $2",
                        &[&tenant.as_str(), &id.get()],
                    )
                    .await
                    .map_err(backend)?;
                    Ok(())
                }
            }
        };
        tx.commit().await.map_err(backend)?;
        result
    }

    async fn load(&self, fixture: &Fixture) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let max_id = fixture
            .tenants
            .iter()
            .flat_map(|t| &t.images)
            .map(|im| im.id.get())
            .max()
            .unwrap_or(0);
        // Locks the counter row first: inserts and other loads wait until this commits, so
        // the clash checks below cannot be overtaken, and later ids exceed the fixture's.
        tx.execute(
            "UPDATE dam_id_counter SET max_id = GREATEST(max_id, $1)",
            &[&max_id],
        )
        .await
        .map_err(backend)?;

        if let Some(clash) = find_clash(&tx, fixture).await? {
            tx.rollback().await.map_err(backend)?;
            return Err(StoreError::Conflict(clash));
        }

        let digests: Vec<&[u8]> = fixture
            .tenants
            .iter()
            .flat_map(|t| t.keys.iter().map(|d| &d.as_bytes()[..]))
            .collect();
        let owners: Vec<&str> = fixture
            .tenants
            .iter()
            .flat_map(|t| t.keys.iter().map(|_| t.tenant.as_str()))
            .collect();
        if !digests.is_empty() {
            tx.execute(
                "INSERT INTO dam_api_keys (digest, tenant)
                 SELECT * FROM unnest($1::bytea[], $2::text[])",
                &[&digests, &owners],
            )
            .await
            .map_err(driver)?;
        }

        let images: Vec<(&TenantId, &Image)> = fixture
            .tenants
            .iter()
            .flat_map(|t| t.images.iter().map(move |im| (&t.tenant, im)))
            .collect();
        for chunk in images.chunks(FIXTURE_CHUNK) {
            insert_images(&tx, chunk).await?;
        }
        tx.commit().await.map_err(driver)?;
        // Statistics for the planner now rather than when autovacuum gets round to it: a
        // planner that believes the tables still empty can read a whole tenant for one page.
        // The fixture is stored by now, so a failure here is no failure of the load.
        if let Err(error) = client
            .batch_execute("ANALYZE dam_images, dam_api_keys")
            .await
        {
            tracing::warn!(
                error = %error_chain(&error),
                "could not refresh the statistics after a fixture load"
            );
        }
        Ok(())
    }
}

/// The first clash of `fixture` with what the store holds, named as the memory store names
/// it (keys, then each image's id, then its reference, tenant by tenant).
async fn find_clash(
    tx: &deadpool_postgres::Transaction<'_>,
    fixture: &Fixture,
) -> Result<Option<String>, StoreError> {
    let digests: Vec<&[u8]> = fixture
        .tenants
        .iter()
        .flat_map(|t| t.keys.iter().map(|d| &d.as_bytes()[..]))
        .collect();
    let held_keys: HashMap<Vec<u8>, String> = tx
        .query(
            "SELECT digest, tenant FROM dam_api_keys WHERE digest = ANY($1::bytea[])",
            &[&digests],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(backend)?;

    let ids: Vec<i64> = fixture
        .tenants
        .iter()
        .flat_map(|t| t.images.iter().map(|im| im.id.get()))
        .collect();
    let held_ids: HashSet<i64> = tx
        .query(
            "SELECT id FROM dam_images WHERE id = ANY($1::bigint[])",
            &[&ids],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(backend)?;

    let (tenants, references): (Vec<&str>, Vec<&str>) = fixture
        .tenants
        .iter()
        .flat_map(|t| {
            t.images
                .iter()
                .map(|im| (t.tenant.as_str(), im.reference.as_str()))
        })
        .unzip();
    let held_references: HashSet<(String, String)> = tx
        .query(
            "SELECT i.tenant, i.reference
             FROM dam_images i
             JOIN unnest($1::text[], $2::text[]) AS f(tenant, reference)
               ON i.tenant = f.tenant AND i.reference = f.reference",
            &[&tenants, &references],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(backend)?;

    for data in &fixture.tenants {
        for (i, digest) in data.keys.iter().enumerate() {
            if let Some(owner) = held_keys.get(&digest.as_bytes()[..]) {
                return Ok(Some(format!(
                    "API key #{} of tenant '{}' is already held by tenant '{owner}'",
                    i + 1,
                    data.tenant
                )));
            }
        }
        for image in &data.images {
            if held_ids.contains(&image.id.get()) {
                return Ok(Some(format!("image id {} is already held", image.id)));
            }
            let key = (
                data.tenant.as_str().to_string(),
                image.reference.as_str().to_string(),
            );
            if held_references.contains(&key) {
                return Ok(Some(format!(
                    "tenant '{}' already has reference '{}'",
                    data.tenant,
                    image.reference.as_str()
                )));
            }
        }
    }
    Ok(None)
}

/// Inserts images with their given ids, one statement for the whole chunk (one array
/// parameter per column; tags travel as JSON arrays, since arrays of arrays must be
/// rectangular).
async fn insert_images(
    tx: &deadpool_postgres::Transaction<'_>,
    images: &[(&TenantId, &Image)],
) -> Result<(), StoreError> {
    let column = |f: &dyn Fn(&Image) -> i64| images.iter().map(|(_, im)| f(im)).collect::<Vec<_>>();
    let ids = column(&|im| im.id.get());
    let num_links = column(&|im| im.num_links);
    let created = column(&|im| im.created_on.unix_seconds());
    let modified = column(&|im| im.modified_on.unix_seconds());
    let widths = column(&|im| im.width);
    let heights = column(&|im| im.height);
    let sizes = column(&|im| im.size_in_bytes);
    let text = |f: &dyn Fn(&Image) -> &str| images.iter().map(|(_, im)| f(im)).collect::<Vec<_>>();
    let tenants: Vec<&str> = images.iter().map(|(t, _)| t.as_str()).collect();
    let references = text(&|im| im.reference.as_str());
    let file_types = text(&|im| im.file_type.as_str());
    let statuses = text(&|im| im.status.code());
    let url = |f: &dyn Fn(&Image) -> &Option<String>| {
        images
            .iter()
            .map(|(_, im)| f(im).as_deref())
            .collect::<Vec<_>>()
    };
    let original = url(&|im| &im.original_url);
    let thumbnail = url(&|im| &im.thumbnail_url);
    let medium = url(&|im| &im.thumbnail_medium_url);
    let preview = url(&|im| &im.thumbnail_preview_url);
    let tags = images
        .iter()
        .map(|(_, im)| serde_json::to_string(&im.tags))
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    tx.execute(
        "INSERT INTO dam_images (id, tenant, reference, file_type, status, num_links,
             created_on, modified_on, tags, original_url, thumbnail_url, thumbnail_medium_url,
             thumbnail_preview_url, width, height, size_in_bytes)
         SELECT u.id, u.tenant, u.reference, u.file_type, u.status, u.num_links,
             u.created_on, u.modified_on,
             ARRAY(SELECT e.tag FROM jsonb_array_elements_text(u.tags::jsonb)
                   WITH ORDINALITY AS e(tag, n) ORDER BY e.n),
             u.original_url, u.thumbnail_url, u.thumbnail_medium_url, u.thumbnail_preview_url,
             u.width, u.height, u.size_in_bytes
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[],
             $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[])
           AS u(id, tenant, reference, file_type, status, num_links, created_on, modified_on,
             tags, original_url, thumbnail_url, thumbnail_medium_url, thumbnail_preview_url,
             width, height, size_in_bytes)",
        &[
            &ids,
            &tenants,
            &references,
            &file_types,
            &statuses,
            &num_links,
            &created,
            &modified,
            &tags,
            &original,
            &thumbnail,
            &medium,
            &preview,
            &widths,
            &heights,
            &sizes,
        ],
    )
    .await
    .map_err(driver)?;
    Ok(())
}

#[async_trait]
impl ImageStore for PostgresStore {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        self.bounded(self.list_images(tenant, query)).await
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        self.bounded(self.get_image(tenant, id)).await
    }

    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        self.bounded(async {
            let stored = self.insert_image(tenant, image).await?;
            self.replicated().await;
            Ok(stored)
        })
        .await
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        self.bounded(async {
            let image = self.update_status(tenant, id, status, at).await?;
            self.replicated().await;
            Ok(image)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await.map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        self.bounded(async {
            self.delete_image(tenant, id).await?;
            self.replicated().await;
            Ok(())
        })
        .await
    }

    /// The primary's pool (`primary`), from deadpool's status.
    fn pools(&self) -> Vec<PoolStatus> {
        let status = self.pool.status();
        vec![PoolStatus::new(
            crate::error::STORE,
            "primary",
            status.max_size,
            status.size,
            status.available,
            status.waiting,
        )]
    }
}

#[async_trait]
impl SeedStore for PostgresStore {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        self.bounded(async {
            self.load(fixture).await?;
            self.replicated().await;
            Ok(())
        })
        .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.bounded(async {
            let client = self.client().await?;
            let row = client
                .query_one("SELECT NOT EXISTS (SELECT 1 FROM dam_images)", &[])
                .await
                .map_err(backend)?;
            row.try_get(0).map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        self.bounded(async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT tenant FROM dam_api_keys WHERE digest = $1")
                .await
                .map_err(backend)?;
            let row = client
                .query_opt(&statement, &[&&digest.as_bytes()[..]])
                .await
                .map_err(backend)?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let name: String = row.try_get(0).map_err(backend)?;
                    TenantId::new(name).map(Some).map_err(backend)
                }
            }
        })
        .await
    }
}

/// How many list statements (page or count, one per filter shape and sort) a connection keeps
/// prepared. Past it the connection's statement cache is emptied and fills again, so that
/// clients sending ever new filters cannot make it grow without bound.
const PREPARED_LISTS: usize = 64;

/// A list's statement on one connection.
///
/// Planning a list costs about as much as running a first page (the planner weighs every
/// index of `dam_images`), so a first page or a seek runs a statement prepared once per
/// connection and filter shape: the SQL text varies with the shape of the filter and the
/// sort, never with a value, since every value is a bound parameter. PostgreSQL plans such a
/// statement for the first values it gets and then, when that is no worse, keeps a generic
/// plan. A `$skip` page is sent unnamed instead (`query_typed`: parse, bind and execute in one
/// round trip), planned for its own values: a generic plan that suits a first page can be a
/// poor one far into the matches.
enum ListStatement {
    Prepared(Statement),
    Unnamed,
}

impl ListStatement {
    /// Prepares `sql` on `client` (or takes it from the connection's cache) when `reuse`.
    async fn prepare(client: &Object, sql: &SqlBuilder, reuse: bool) -> Result<Self, StoreError> {
        if !reuse {
            return Ok(ListStatement::Unnamed);
        }
        let statement = client
            .prepare_typed_cached(sql.sql(), &sql.types())
            .await
            .map_err(backend)?;
        // The fixed statements of the other operations count too; they are prepared again
        // when next used.
        if client.statement_cache.size() > PREPARED_LISTS {
            client.statement_cache.clear();
        }
        Ok(ListStatement::Prepared(statement))
    }

    /// Runs the statement with `sql`'s parameters, on `client` or in its transaction.
    async fn query(
        &self,
        client: &impl GenericClient,
        sql: &SqlBuilder,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            ListStatement::Prepared(statement) => client.query(statement, &sql.params()).await,
            ListStatement::Unnamed => client.query_typed(sql.sql(), &sql.typed_params()).await,
        }
        .map_err(backend)
    }
}

/// A pool of connections made with `session`, each bounded by `timeout`, waiting at most
/// `wait` for a free one.
pub(crate) fn build_pool(
    session: tokio_postgres::Config,
    size: usize,
    wait: Duration,
    timeout: Duration,
) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        session,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(wait))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(backend)
}

#[cfg(test)]
mod tests {
    use dam_core::query::{Filter, Value};
    use dam_core::store::{CmpOp, Field};

    use super::*;

    /// The test database, or `None` (said) when `DAM_TEST_POSTGRES_URL` is unset; under
    /// `CI=true` an unset URL fails, as in the integration tests.
    fn database_url() -> Option<String> {
        let url = std::env::var("DAM_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty());
        if url.is_none() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "DAM_TEST_POSTGRES_URL is not set, and CI=true"
            );
            eprintln!("skipped: DAM_TEST_POSTGRES_URL not set");
        }
        url
    }

    /// A filter of `n` clauses: a statement text of its own for each `n`.
    fn clauses(n: i64) -> Filter {
        let clause = |k| Filter::Compare {
            field: Field::NumLinks,
            op: CmpOp::Ne,
            value: Value::Integer(k),
        };
        (1..n).fold(clause(0), |f, k| {
            Filter::And(Box::new(f), Box::new(clause(k)))
        })
    }

    /// A connection keeps at most `PREPARED_LISTS` list statements, however many filter
    /// shapes it sees, and a shape seen before is not prepared again.
    #[tokio::test]
    async fn prepared_lists_stay_bounded_per_connection() {
        let Some(url) = database_url() else {
            return;
        };
        let schema = format!("dam_unit_prepared_{}", std::process::id());
        let config = PostgresConfig::new(&url)
            .and_then(|c| c.with_schema(&schema))
            .unwrap();
        let store = PostgresStore::connect(config).await.unwrap();
        let mut client = store.client().await.unwrap();
        let who = TenantId::new("acme").unwrap();
        let query = |n| ListQuery {
            filter: Some(clauses(n)),
            ..ListQuery::default()
        };

        let mut sizes = Vec::new();
        for n in 1..=3 * PREPARED_LISTS as i64 {
            let page = PostgresStore::list_page(&mut client, &who, &query(n)).await;
            assert!(page.is_ok_and(|p| p.items.is_empty()));
            sizes.push(client.statement_cache.size());
        }
        let before = client.statement_cache.size();
        PostgresStore::list_page(&mut client, &who, &query(3 * PREPARED_LISTS as i64))
            .await
            .unwrap();
        let again = client.statement_cache.size();
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();

        assert!(
            sizes.iter().all(|&size| size <= PREPARED_LISTS),
            "{sizes:?}"
        );
        assert_eq!(sizes[..3], [1, 2, 3]);
        assert_eq!(again, before);
    }
}
