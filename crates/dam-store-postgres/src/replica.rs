//! Read replicas (hot standbys): which one answers a list, how a write waits for them, and the
//! health checks that take them out of the rotation and bring them back.
//!
//! Consistency does not rest on the rotation being right. A list goes to a replica only when
//! the replica has replayed the primary's flush position read just before (the *fence*), so
//! it sees every write that any process finished before the list began; otherwise the list
//! runs on the primary. The rotation and a write's wait keep the replicas useful: a write
//! waits (bounded) until the replicas in rotation have replayed it, so the lists that follow
//! pass the fence; a replica that is down, fails, lags too far or misses that wait leaves the
//! rotation until a health check finds it caught up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use dam_core::store::{ImagePage, ListQuery, StoreError};
use dam_core::{error_chain, TenantId};
use deadpool_postgres::{Object, Pool};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::config::Host;
use tokio_postgres::types::PgLsn;

use crate::config::PostgresConfig;
use crate::error::backend;
use crate::store::{build_pool, PostgresStore};

/// The longest pause between two looks at a replica's replay position while a write waits.
const MAX_POLL: Duration = Duration::from_millis(20);

/// The pause after the `polls`-th look at a replica's replay position: 1 ms for the first 20
/// looks, then doubling up to [`MAX_POLL`].
fn poll_pause(polls: u32) -> Duration {
    let doublings = polls.saturating_sub(20).min(5);
    Duration::from_millis(1 << doublings).min(MAX_POLL)
}

/// Which store answered lists, and how many replicas are in rotation: what
/// [`crate::PostgresStore::replica_stats`] reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaStats {
    /// Replicas configured.
    pub replicas: usize,
    /// Replicas in rotation now (healthy, caught up).
    pub in_rotation: usize,
    /// Lists (and counts) a replica answered.
    pub lists_on_replicas: u64,
    /// Lists the primary answered (no replica in rotation, or the chosen one had not yet
    /// replayed the fence, or failed). Counted only when replicas are configured.
    pub lists_on_primary: u64,
}

/// The replicas of one store.
pub(crate) struct Replicas {
    members: Vec<Replica>,
    next: AtomicUsize,
    wait: Duration,
    max_lag: Duration,
    interval: Duration,
    /// Bounds one attempt on a replica (a list, a health check), so that the primary still
    /// has time to answer when the replica does not.
    attempt: Duration,
    lists_on_replicas: AtomicU64,
    lists_on_primary: AtomicU64,
}

struct Replica {
    /// `replica N (host:port)`: never the URL, which may hold a password.
    name: String,
    pool: Pool,
    in_rotation: AtomicBool,
}

/// The primary's flush positions seen by the health checks, oldest first, for measuring lag.
#[derive(Default)]
struct History {
    samples: VecDeque<(Instant, u64)>,
}

impl Replicas {
    /// One pool per replica (nothing is connected yet), none in rotation.
    pub(crate) fn new(config: &PostgresConfig) -> Result<Option<Replicas>, StoreError> {
        if config.replicas.is_empty() {
            return Ok(None);
        }
        let attempt = config.timeout / 2;
        let members = config
            .replicas
            .iter()
            .enumerate()
            .map(|(i, server)| {
                let mut session = config.session_config(server);
                session.connect_timeout(attempt);
                Ok(Replica {
                    name: format!("replica {} ({})", i + 1, server_name(server)),
                    pool: build_pool(session, config.pool_size, attempt, attempt)?,
                    in_rotation: AtomicBool::new(false),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(Replicas {
            members,
            next: AtomicUsize::new(0),
            // A lagging replica must never turn a write into a timeout.
            wait: config.replica_wait.min(config.timeout / 2),
            max_lag: config.replica_max_lag,
            interval: config.replica_check_interval,
            attempt,
            lists_on_replicas: AtomicU64::new(0),
            lists_on_primary: AtomicU64::new(0),
        }))
    }

    /// Puts every replica that has replayed what the primary holds now into rotation (after
    /// migrations, so the replicas in rotation have the schema), then starts the health
    /// checks, which end when the replicas are dropped.
    pub(crate) async fn start(self: &Arc<Self>, primary: &Pool) -> JoinHandle<()> {
        for member in &self.members {
            member.in_rotation.store(true, Ordering::SeqCst);
        }
        self.wait_for_replay(primary).await;
        let weak = Arc::downgrade(self);
        let primary = primary.clone();
        tokio::spawn(health_checks(weak, primary, self.interval))
    }

    pub(crate) fn stats(&self) -> ReplicaStats {
        ReplicaStats {
            replicas: self.members.len(),
            in_rotation: self
                .members
                .iter()
                .filter(|m| m.in_rotation.load(Ordering::SeqCst))
                .count(),
            lists_on_replicas: self.lists_on_replicas.load(Ordering::Relaxed),
            lists_on_primary: self.lists_on_primary.load(Ordering::Relaxed),
        }
    }

    /// The next replica in rotation, round robin.
    fn pick(&self) -> Option<&Replica> {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.members[(start + i) % n])
            .find(|m| m.in_rotation.load(Ordering::SeqCst))
    }

    /// A list answered by a replica in rotation that has replayed the fence, or `None`: the
    /// caller asks the primary (and says so with [`Replicas::answered_by_primary`]). A
    /// replica that fails or does not answer in time leaves the rotation; its error never
    /// reaches the caller.
    pub(crate) async fn list(
        &self,
        primary: &Pool,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Option<ImagePage> {
        let replica = self.pick()?;
        // Everything a process finished writing before this list began is at or before the
        // primary's flush position now. A primary that fails here fails the list there.
        let fence = {
            let client = primary.get().await.ok()?;
            flush_lsn(&client).await.ok()?
        };
        let attempt = async {
            let mut client = replica.pool.get().await.map_err(backend)?;
            let replayed = replay_lsn(&client).await.map_err(backend)?;
            if replayed.is_none_or(|lsn| lsn < fence) {
                return Ok(None);
            }
            // Replay only moves forward: the list's snapshot holds everything up to the fence.
            PostgresStore::list_page(&mut client, tenant, query)
                .await
                .map(Some)
        };
        match tokio::time::timeout(self.attempt, attempt).await {
            Ok(Ok(Some(page))) => {
                self.lists_on_replicas.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(answered_by = "replica", replica = %replica.name, "list");
                Some(page)
            }
            Ok(Ok(None)) => None,
            Ok(Err(e)) => {
                leave(replica, &error_chain(&e));
                None
            }
            Err(_) => {
                leave(replica, &format!("no answer within {:?}", self.attempt));
                None
            }
        }
    }

    /// Counts a list the primary answered.
    pub(crate) fn answered_by_primary(&self) {
        self.lists_on_primary.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(answered_by = "primary", "list");
    }

    /// After a successful write: waits until every replica in rotation has replayed the
    /// primary's flush position (which covers the write), all within the wait bound; a
    /// replica that has not by then, or fails, leaves the rotation. Never fails: the write
    /// is committed, and lists check the fence themselves.
    pub(crate) async fn wait_for_replay(&self, primary: &Pool) {
        if self.wait.is_zero()
            || !self
                .members
                .iter()
                .any(|m| m.in_rotation.load(Ordering::SeqCst))
        {
            return;
        }
        let target = async {
            let client = primary.get().await.map_err(backend)?;
            flush_lsn(&client).await.map_err(backend)
        };
        let target = match target.await {
            Ok(lsn) => lsn,
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "cannot read the primary's WAL position; not waiting for the replicas");
                return;
            }
        };
        let deadline = Instant::now() + self.wait;
        for member in &self.members {
            if !member.in_rotation.load(Ordering::SeqCst) {
                continue;
            }
            let caught_up = async {
                let client = member.pool.get().await.map_err(backend)?;
                let mut polls = 0u32;
                loop {
                    if replay_lsn(&client)
                        .await
                        .map_err(backend)?
                        .is_some_and(|lsn| lsn >= target)
                    {
                        return Ok::<(), StoreError>(());
                    }
                    // Replay usually takes a few milliseconds: look every millisecond at
                    // first, then back off.
                    polls += 1;
                    tokio::time::sleep(poll_pause(polls)).await;
                }
            };
            match tokio::time::timeout_at(deadline, caught_up).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => leave(member, &error_chain(&e)),
                Err(_) => leave(
                    member,
                    &format!("did not replay a write within {:?}", self.wait),
                ),
            }
        }
    }

    /// One health check: a replica that answers, is a standby and lags less than the bound
    /// stays; one that has replayed the primary's position of this check comes back.
    async fn check(&self, primary: &Pool, history: &mut History) {
        let primary_lsn = tokio::time::timeout(self.attempt, async {
            let client = primary.get().await.map_err(backend)?;
            flush_lsn(&client).await.map_err(backend)
        })
        .await;
        // With the primary unreachable nothing can be measured, and lists fail there anyway.
        let Ok(Ok(primary_lsn)) = primary_lsn else {
            return;
        };
        let now = Instant::now();
        history.samples.push_back((now, primary_lsn));
        let cutoff = now.checked_sub(self.max_lag);
        // Keep the newest sample at or before the cutoff, and those after it.
        while history.samples.len() > 1
            && cutoff.is_some_and(|cutoff| history.samples[1].0 <= cutoff)
        {
            history.samples.pop_front();
        }
        let lag_bound = history
            .samples
            .front()
            .filter(|(at, _)| cutoff.is_some_and(|cutoff| *at <= cutoff))
            .map(|(_, lsn)| *lsn);

        for member in &self.members {
            let replayed = tokio::time::timeout(self.attempt, async {
                let client = member.pool.get().await.map_err(backend)?;
                replay_lsn(&client).await.map_err(backend)
            })
            .await;
            match replayed {
                Ok(Ok(Some(lsn))) => {
                    if member.in_rotation.load(Ordering::SeqCst) {
                        if lag_bound.is_some_and(|old| lsn < old) {
                            leave(member, &format!("lags more than {:?}", self.max_lag));
                        }
                    } else if lsn >= primary_lsn {
                        join(member);
                    }
                }
                Ok(Ok(None)) => leave(member, "not a standby (not in recovery)"),
                Ok(Err(e)) => leave(member, &error_chain(&e)),
                Err(_) => leave(member, &format!("no answer within {:?}", self.attempt)),
            }
        }
    }
}

async fn health_checks(replicas: Weak<Replicas>, primary: Pool, interval: Duration) {
    let mut history = History::default();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        replicas.check(&primary, &mut history).await;
    }
}

fn leave(member: &Replica, reason: &str) {
    if member.in_rotation.swap(false, Ordering::SeqCst) {
        tracing::warn!(replica = %member.name, reason, "a read replica left the rotation; lists go to the others or the primary");
    }
}

fn join(member: &Replica) {
    if !member.in_rotation.swap(true, Ordering::SeqCst) {
        tracing::info!(replica = %member.name, "a read replica is back in rotation");
    }
}

/// The primary's WAL flush position: every transaction that has committed (with
/// `synchronous_commit` at least `local`) ends at or before it.
async fn flush_lsn(client: &Object) -> Result<u64, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT pg_current_wal_flush_lsn()", &[])
        .await?;
    Ok(u64::from(row.try_get::<_, PgLsn>(0)?))
}

/// How far a standby has replayed; `None` for a server that is not in recovery.
async fn replay_lsn(client: &Object) -> Result<Option<u64>, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() END",
            &[],
        )
        .await?;
    Ok(row.try_get::<_, Option<PgLsn>>(0)?.map(u64::from))
}

/// `host:port` of a server, for logs (a connection string may hold a password; this never
/// does).
fn server_name(server: &tokio_postgres::Config) -> String {
    let host = match server.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = server.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}
