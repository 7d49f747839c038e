//! What a read replica costs and gives, measured against a real primary and hot standby:
//!
//! 1. the latency of a delete (median and 95th percentile over 200 deletes, one at a time) on a
//!    store without a replica, with a replica and the default wait, and with a replica and the
//!    wait turned off;
//! 2. under a mixed load (70 % lists, 20 % deletes, 10 % status changes, 8 tasks at once), the
//!    share of lists the replica answered.
//!
//! ```sh
//! DAM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! DAM_TEST_POSTGRES_REPLICA_URL=$(scripts/pg-standby.sh) \
//! cargo run --release -p dam-store-postgres --example replicas
//! ```
//!
//! Each store lives in a schema of its own (`dam_replicas_example_*`), dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dam_core::query::{Filter, Value};
use dam_core::store::{CmpOp, Field, ImageStore, ListQuery, SeedStore, StoreError};
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantData, TenantId,
    Timestamp,
};
use dam_store_postgres::{PostgresConfig, PostgresStore};

const DELETES: i64 = 200;
const TASKS: usize = 8;
const OPS_PER_TASK: usize = 500;
const TENANTS: usize = 4;
const IMAGES_PER_TENANT: i64 = 2_000;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (Ok(url), Ok(replica)) = (
        std::env::var("DAM_TEST_POSTGRES_URL"),
        std::env::var("DAM_TEST_POSTGRES_REPLICA_URL"),
    ) else {
        eprintln!("set DAM_TEST_POSTGRES_URL and DAM_TEST_POSTGRES_REPLICA_URL (see the header)");
        return Ok(());
    };

    println!("delete latency, {DELETES} deletes one at a time:");
    for (label, replica, wait) in [
        ("primary only", None, Duration::ZERO),
        (
            "with replica, wait on",
            Some(replica.as_str()),
            PostgresConfig::DEFAULT_REPLICA_WAIT,
        ),
        (
            "with replica, wait off",
            Some(replica.as_str()),
            Duration::ZERO,
        ),
    ] {
        let schema = schema_name(label);
        let store = open(&url, replica, &schema, wait).await?;
        let result = delete_latency(&store).await;
        drop(store);
        drop_schema(&url, &schema).await?;
        let (median, p95) = result?;
        println!("  {label:<24} median {median:>8.3} ms   p95 {p95:>8.3} ms");
    }

    let schema = schema_name("mixed");
    let store = Arc::new(
        open(
            &url,
            Some(&replica),
            &schema,
            PostgresConfig::DEFAULT_REPLICA_WAIT,
        )
        .await?,
    );
    let result = mixed_load(store.clone()).await;
    let stats = store.replica_stats();
    drop(store);
    drop_schema(&url, &schema).await?;
    let elapsed = result?;
    let lists = stats.lists_on_replicas + stats.lists_on_primary;
    println!(
        "mixed load, {TASKS} tasks x {OPS_PER_TASK} operations in {:.1} s: {} of {lists} lists \
         answered by the replica ({:.1} %), {} by the primary",
        elapsed.as_secs_f64(),
        stats.lists_on_replicas,
        100.0 * stats.lists_on_replicas as f64 / lists.max(1) as f64,
        stats.lists_on_primary,
    );
    Ok(())
}

fn schema_name(label: &str) -> String {
    let tag: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!(
        "dam_replicas_example_{}_{}",
        tag.to_ascii_lowercase(),
        std::process::id()
    )
}

async fn open(
    url: &str,
    replica: Option<&str>,
    schema: &str,
    wait: Duration,
) -> Result<PostgresStore, Error> {
    let mut config = PostgresConfig::new(url)?
        .with_schema(schema)?
        .with_pool_size(TASKS)?
        .with_replica_wait(wait);
    if let Some(replica) = replica {
        config = config.with_replica(replica)?;
    }
    Ok(PostgresStore::connect(config).await?)
}

async fn drop_schema(url: &str, schema: &str) -> Result<(), Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    Ok(())
}

fn tenant(n: usize) -> TenantId {
    TenantId::new(format!("tenant{n}")).expect("a valid tenant name")
}

fn fixture(tenants: usize, per_tenant: i64) -> Fixture {
    let tenants = (0..tenants)
        .map(|t| TenantData {
            tenant: tenant(t),
            keys: vec![KeyDigest::of(&format!("key-{t}"))],
            images: (1..=per_tenant)
                .map(|n| {
                    let id = t as i64 * per_tenant + n;
                    Image::new(
                        ImageId::new(id).expect("a positive id"),
                        Reference::new(format!("img-{id}.jpg")).expect("a valid reference"),
                        FileType::new(if n % 3 == 0 { "png" } else { "jpg" })
                            .expect("a valid file type"),
                        ImageStatus::Ready,
                        Timestamp::from_unix_seconds(1_700_000_000 + id).expect("a timestamp"),
                    )
                })
                .collect(),
        })
        .collect();
    Fixture { tenants }
}

/// Median and 95th percentile, in milliseconds.
async fn delete_latency(store: &PostgresStore) -> Result<(f64, f64), Error> {
    store.load_fixture(&fixture(1, DELETES)).await?;
    let mut times = Vec::with_capacity(DELETES as usize);
    for n in 1..=DELETES {
        let id = ImageId::new(n)?;
        let start = Instant::now();
        store.delete(&tenant(0), id).await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.95)))
}

/// A small xorshift generator: enough to spread the operations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn mixed_load(store: Arc<PostgresStore>) -> Result<Duration, Error> {
    store
        .load_fixture(&fixture(TENANTS, IMAGES_PER_TENANT))
        .await?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (task as u64 + 1));
                for _ in 0..OPS_PER_TASK {
                    let t = rng.below(TENANTS as u64) as usize;
                    let id = t as i64 * IMAGES_PER_TENANT
                        + 1
                        + rng.below(IMAGES_PER_TENANT as u64) as i64;
                    let id = ImageId::new(id)?;
                    match rng.below(10) {
                        0..=6 => {
                            let query = ListQuery {
                                filter: (rng.below(2) == 0).then(|| Filter::Compare {
                                    field: Field::FileType,
                                    op: CmpOp::Eq,
                                    value: Value::String("png".into()),
                                }),
                                top: 50,
                                skip: rng.below(10) * 50,
                                count: rng.below(4) == 0,
                                ..ListQuery::default()
                            };
                            store.list(&tenant(t), &query).await?;
                        }
                        7 | 8 => match store.delete(&tenant(t), id).await {
                            Ok(()) | Err(StoreError::NotFound | StoreError::BeingProcessed) => {}
                            Err(e) => return Err(Error::from(e)),
                        },
                        _ => {
                            let status = if rng.below(2) == 0 {
                                ImageStatus::Updating
                            } else {
                                ImageStatus::Ready
                            };
                            let at = Timestamp::from_unix_seconds(1_800_000_000)?;
                            match store.set_status(&tenant(t), id, status, at).await {
                                Ok(_) | Err(StoreError::NotFound) => {}
                                Err(e) => return Err(Error::from(e)),
                            }
                        }
                    }
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(start.elapsed())
}
