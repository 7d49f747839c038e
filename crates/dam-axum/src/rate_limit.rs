//! Per-tenant rate limiting (§9.4): N requests per second with bursts of N for each resolved
//! tenant, checked right after authentication (§2), with the IETF RateLimit header fields on
//! every answer to an authenticated request and a 429 problem with `Retry-After` past it.
//!
//! A keyed GCRA limiter from governor holds one small state per tenant that asked recently;
//! every [`SWEEP_EVERY`] checks, tenants whose bucket is full again (idle) are dropped, so the
//! memory follows the tenants active in the last second or so, not all tenants ever seen.
//! Limits are per process: two processes behind a balancer allow twice the rate.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use dam_core::TenantId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// How many checks pass between two sweeps of idle tenants.
pub(crate) const SWEEP_EVERY: u64 = 1024;

/// `RateLimit-Policy: "tenant";q=N;w=1`.
pub(crate) const POLICY_HEADER: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit: "tenant";r=R;t=T`.
pub(crate) const STATE_HEADER: HeaderName = HeaderName::from_static("ratelimit");

/// A per-tenant rate limit: [`RateLimit::per_second`]`(n)` lets each tenant make `n`
/// requests per second, in bursts of up to `n`. Clones share one limiter.
///
/// ```
/// use std::num::NonZeroU32;
/// use std::sync::Arc;
/// use dam_axum::{DamApi, RateLimit};
/// use dam_core::ImageService;
/// use dam_store_memory::MemoryStore;
///
/// let store = Arc::new(MemoryStore::new());
/// let limit = RateLimit::per_second(NonZeroU32::new(50).unwrap());
/// let dam = DamApi::new(ImageService::new(store.clone(), store)).with_rate_limit(limit);
/// ```
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<dyn Limiter>,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("per_second", &self.limiter.quota())
            .finish_non_exhaustive()
    }
}

impl RateLimit {
    /// `n` requests per second for each tenant, with bursts of up to `n`.
    pub fn per_second(n: NonZeroU32) -> Self {
        RateLimit::with_clock(n, DefaultClock::default())
    }

    /// The same limit on another clock (tests use governor's fake clock).
    pub(crate) fn with_clock<C>(n: NonZeroU32, clock: C) -> Self
    where
        C: Clock + Clone + Send + Sync + 'static,
        C::Instant: Send + Sync,
    {
        let limiter = RateLimiter::dashmap_with_clock(Quota::per_second(n), clock.clone())
            .with_middleware::<StateInformationMiddleware>();
        RateLimit {
            limiter: Arc::new(Keyed {
                limiter,
                clock,
                quota: n,
                checks: AtomicU64::new(0),
            }),
        }
    }

    /// Requests per second (and burst) of each tenant.
    pub fn quota(&self) -> NonZeroU32 {
        self.limiter.quota()
    }

    /// How many tenants the limiter holds a state for now (those that asked recently).
    pub fn tracked_tenants(&self) -> usize {
        self.limiter.tracked()
    }

    /// Charges one request to `tenant`.
    pub(crate) fn check(&self, tenant: &TenantId) -> Decision {
        self.limiter.check(tenant)
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The request passes; `remaining` more would pass now, the quota is full again in
    /// `reset` seconds.
    Allowed { remaining: u32, reset: u64 },
    /// The quota is spent: a request passes again in `retry_after` seconds (at least 1); it
    /// is full again in `reset` seconds.
    Refused { retry_after: u64, reset: u64 },
}

impl Decision {
    /// `RateLimit-Policy` and `RateLimit` of an answer under a quota of `quota`.
    pub(crate) fn headers(self, quota: NonZeroU32) -> [(HeaderName, HeaderValue); 2] {
        let (remaining, reset) = match self {
            Decision::Allowed { remaining, reset } => (remaining, reset),
            Decision::Refused { reset, .. } => (0, reset),
        };
        let value = |text: String| {
            // Digits, letters and `";=`: always a valid header value.
            HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("\"tenant\""))
        };
        [
            (
                POLICY_HEADER,
                value(format!("\"tenant\";q={};w=1", quota.get())),
            ),
            (
                STATE_HEADER,
                value(format!("\"tenant\";r={remaining};t={reset}")),
            ),
        ]
    }
}

/// One request charged to its tenant: the header fields of its answer (none without a limit)
/// and, past the limit, the seconds until a request would pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct Charge {
    fields: Option<[(HeaderName, HeaderValue); 2]>,
    refused_for: Option<u64>,
}

impl Charge {
    /// Charges one request of `tenant` to `limit`, if there is one.
    pub(crate) fn of(limit: Option<&RateLimit>, tenant: &TenantId) -> Charge {
        let Some(limit) = limit else {
            return Charge::default();
        };
        let decision = limit.check(tenant);
        Charge {
            fields: Some(decision.headers(limit.quota())),
            refused_for: match decision {
                Decision::Allowed { .. } => None,
                Decision::Refused { retry_after, .. } => Some(retry_after),
            },
        }
    }

    /// Past the limit: whole seconds until a request would pass (the `Retry-After`).
    pub(crate) fn refused_for(&self) -> Option<u64> {
        self.refused_for
    }

    /// `response` with the fields.
    pub(crate) fn stamp(self, mut response: Response) -> Response {
        if let Some(fields) = self.fields {
            response.headers_mut().extend(fields);
        }
        response
    }
}

/// The limiter behind [`RateLimit`], whatever its clock.
trait Limiter: Send + Sync {
    fn check(&self, tenant: &TenantId) -> Decision;
    fn quota(&self) -> NonZeroU32;
    fn tracked(&self) -> usize;
}

struct Keyed<C: Clock> {
    limiter: RateLimiter<TenantId, DashMapStateStore<TenantId>, C, StateInformationMiddleware>,
    clock: C,
    quota: NonZeroU32,
    checks: AtomicU64,
}

/// Whole seconds, rounded up.
fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl<C> Limiter for Keyed<C>
where
    C: Clock + Send + Sync,
    C::Instant: Send + Sync,
{
    fn check(&self, tenant: &TenantId) -> Decision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let n = self.quota.get();
        match self.limiter.check_key(tenant) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity().min(n);
                // Each spent request comes back after 1/n s, so a bucket that is not full is
                // full again within a second.
                let reset = u64::from(remaining < n);
                Decision::Allowed { remaining, reset }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                // The next request passes after `wait`, the other n - 1 follow 1/n s apart.
                let period = Duration::from_secs(1) / n;
                Decision::Refused {
                    retry_after: ceil_seconds(wait).max(1),
                    reset: ceil_seconds(wait + period * (n - 1)).max(1),
                }
            }
        }
    }

    fn quota(&self) -> NonZeroU32 {
        self.quota
    }

    fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use proptest::prelude::*;

    fn tenant(name: &str) -> TenantId {
        TenantId::new(name).expect("a tenant name")
    }

    fn limit(n: u32) -> (RateLimit, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let n = NonZeroU32::new(n).expect("non-zero");
        (RateLimit::with_clock(n, clock.clone()), clock)
    }

    /// Allowed, `remaining` left, the window resetting in a second.
    fn allowed(remaining: u32) -> Decision {
        Decision::Allowed {
            remaining,
            reset: 1,
        }
    }

    #[test]
    fn a_burst_of_n_passes_then_429_until_time_passes() {
        let (limit, clock) = limit(3);
        let acme = tenant("acme");
        let seen: Vec<Decision> = (0..4).map(|_| limit.check(&acme)).collect();
        assert_eq!(
            seen,
            [
                allowed(2),
                allowed(1),
                allowed(0),
                Decision::Refused {
                    retry_after: 1,
                    reset: 1
                },
            ]
        );
        // another tenant is unaffected
        assert_eq!(limit.check(&tenant("globex")), allowed(2));
        // a third of a second gives one request back
        clock.advance(Duration::from_millis(334));
        assert_eq!(limit.check(&acme), allowed(0));
        clock.advance(Duration::from_secs(5));
        assert_eq!(limit.check(&acme), allowed(2));
    }

    #[test]
    fn the_header_fields_follow_the_draft() {
        let [(policy, q), (state, r)] = allowed(7).headers(NonZeroU32::MIN.saturating_add(9));
        assert_eq!(policy, "ratelimit-policy");
        assert_eq!(q, "\"tenant\";q=10;w=1");
        assert_eq!(state, "ratelimit");
        assert_eq!(r, "\"tenant\";r=7;t=1");
        let [_, (_, r)] = Decision::Refused {
            retry_after: 1,
            reset: 1,
        }
        .headers(NonZeroU32::MIN);
        assert_eq!(r, "\"tenant\";r=0;t=1");
    }

    #[test]
    fn idle_tenants_are_evicted_so_100_000_tenants_do_not_fill_the_memory() {
        let (limit, clock) = limit(10);
        let mut most = 0;
        for i in 0..100_000 {
            clock.advance(Duration::from_millis(1));
            let decision = limit.check(&tenant(&format!("tenant-{i}")));
            assert!(matches!(decision, Decision::Allowed { .. }));
            most = most.max(limit.tracked_tenants());
        }
        // Between two sweeps at most SWEEP_EVERY new tenants arrive; a sweep keeps only those
        // of the last few hundred milliseconds.
        assert!(most <= 2 * SWEEP_EVERY as usize, "{most} tenants held");
        assert!(limit.tracked_tenants() <= SWEEP_EVERY as usize + 300);
    }

    #[test]
    fn without_time_passing_every_tenant_stays_held() {
        // The sweep drops only idle tenants: those still counting keep their state.
        let (limit, _clock) = limit(1);
        for i in 0..3000 {
            limit.check(&tenant(&format!("tenant-{i}")));
        }
        assert_eq!(limit.tracked_tenants(), 3000);
        assert!(matches!(
            limit.check(&tenant("tenant-0")),
            Decision::Refused { .. }
        ));
    }

    proptest! {
        /// Whatever the timing: r is within 0..n-1 after a request and falls by one per
        /// request while no time passes, t is 0 or 1, a 429 says to retry in at least 1 s and
        /// only comes once r reached 0, and one tenant never spends another's quota.
        #[test]
        fn header_values_stay_within_their_bounds(
            n in 1u32..20,
            steps in proptest::collection::vec((0usize..3, 0u64..1500), 1..80),
        ) {
            let (limit, clock) = limit(n);
            let tenants = [tenant("a"), tenant("b"), tenant("c")];
            let mut last: [Option<Decision>; 3] = [None; 3];
            for (who, wait_ms) in steps {
                clock.advance(Duration::from_millis(wait_ms));
                if wait_ms > 0 {
                    last = [None; 3];
                }
                let decision = limit.check(&tenants[who]);
                match decision {
                    Decision::Allowed { remaining, reset } => {
                        prop_assert!(remaining < n);
                        prop_assert!(reset <= 1);
                        if let Some(Decision::Allowed { remaining: before, .. }) = last[who] {
                            prop_assert_eq!(remaining + 1, before);
                        }
                        let refused_before = matches!(last[who], Some(Decision::Refused { .. }));
                        prop_assert!(!refused_before, "a request passed after a 429 without time passing");
                    }
                    Decision::Refused { retry_after, reset } => {
                        prop_assert!(retry_after >= 1);
                        prop_assert!(reset >= retry_after);
                        if let Some(Decision::Allowed { remaining, .. }) = last[who] {
                            prop_assert_eq!(remaining, 0);
                        }
                    }
                }
                let [(_, policy), (_, state)] = decision.headers(limit.quota());
                let expected = format!("\"tenant\";q={n};w=1");
                prop_assert_eq!(policy.to_str().ok(), Some(expected.as_str()));
                let state = state.to_str().unwrap_or_default().to_string();
                prop_assert!(state.starts_with("\"tenant\";r="), "{}", state);
                last[who] = Some(decision);
            }
        }
    }

    /// The limit at the HTTP face, on a fake clock: §2's order of checks and the header fields
    /// of every answer to an authenticated request.
    mod http {
        use super::*;
        use crate::DamApi;
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use axum::Router;
        use dam_core::store::SeedStore;
        use dam_core::{Fixture, ImageService};
        use dam_store_memory::MemoryStore;
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        /// acme (`acme-key`: 1 ready, 2 being processed, 3 ready) and globex (`globex-key`).
        async fn app(n: u32) -> (Router, RateLimit) {
            let fixture = Fixture::from_json(
                r#"{ "tenants": [
                  { "name": "acme", "apiKeys": ["acme-key"], "images": [
                    { "id": 1, "reference": "1.jpg", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33" },
                    { "id": 2, "reference": "2.jpg", "fileType": "jpg", "status": "Up", "createdOn": "2024-04-05T08:44:33" },
                    { "id": 3, "reference": "3.jpg", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33" } ] },
                  { "name": "globex", "apiKeys": ["globex-key"], "images": [] } ] }"#,
            )
            .expect("fixture");
            let store = Arc::new(MemoryStore::new());
            store.load_fixture(&fixture).await.expect("load");
            let (limit, _clock) = limit(n);
            let dam =
                DamApi::new(ImageService::new(store.clone(), store)).with_rate_limit(limit.clone());
            (dam.router(), limit)
        }

        struct Answer {
            status: StatusCode,
            retry_after: Option<String>,
            policy: Option<String>,
            state: Option<String>,
            content_type: Option<String>,
            body: serde_json::Value,
        }

        async fn send(app: &Router, method: &str, target: &str, key: Option<&str>) -> Answer {
            let mut request = Request::builder().method(method).uri(target);
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            let response = app
                .clone()
                .oneshot(request.body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let (status, retry_after, policy, state, content_type) = (
                response.status(),
                header("retry-after"),
                header("ratelimit-policy"),
                header("ratelimit"),
                header("content-type"),
            );
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            Answer {
                status,
                retry_after,
                policy,
                state,
                content_type,
                body,
            }
        }

        #[tokio::test]
        async fn a_tenants_flood_gets_429s_while_another_tenant_is_unaffected() {
            let (app, _limit) = app(3).await;
            let mut statuses = Vec::new();
            for _ in 0..10 {
                statuses.push(
                    send(&app, "GET", "/image", Some("acme-key"))
                        .await
                        .status
                        .as_u16(),
                );
            }
            assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
            let refused = send(&app, "GET", "/image", Some("acme-key")).await;
            assert_eq!(
                refused.content_type.as_deref(),
                Some("application/problem+json")
            );
            assert_eq!(
                refused.body["type"],
                "https://api2.saleslayer.com/errors/too-many-requests"
            );
            assert_eq!(refused.body["title"], "Too Many Requests");
            assert_eq!(refused.body["status"], 429);
            assert_eq!(refused.body["instance"], "/image");
            assert_eq!(refused.retry_after.as_deref(), Some("1"));
            assert_eq!(refused.policy.as_deref(), Some("\"tenant\";q=3;w=1"));
            assert_eq!(refused.state.as_deref(), Some("\"tenant\";r=0;t=1"));
            // the image was not deleted by a refused request
            let refused = send(&app, "DELETE", "/image/1", Some("acme-key")).await;
            assert_eq!(refused.status, 429);
            for r in [2, 1, 0] {
                let globex = send(&app, "GET", "/image", Some("globex-key")).await;
                assert_eq!(globex.status, 200);
                assert_eq!(globex.state, Some(format!("\"tenant\";r={r};t=1")));
            }
        }

        #[tokio::test]
        async fn every_authenticated_answer_carries_the_fields_and_refusals_before_are_free() {
            let (app, _limit) = app(10).await;
            // refused before a tenant is known: no fields, nothing charged
            for key in [None, Some(""), Some("unknown-key"), Some("bad key")] {
                for _ in 0..20 {
                    let answer = send(&app, "GET", "/image?$top=abc", key).await;
                    assert!(matches!(answer.status.as_u16(), 400 | 401));
                    assert_eq!(answer.policy, None);
                    assert_eq!(answer.state, None);
                }
            }
            // after it, every answer: 200, 400, 404, 409, 204
            let cases = [
                ("GET", "/image", 200, 9),
                ("GET", "/image?$top=abc", 400, 8),
                ("DELETE", "/image/99", 404, 7),
                ("DELETE", "/image/2", 409, 6),
                ("DELETE", "/image/1", 204, 5),
                ("DELETE", "/image/01", 400, 4),
            ];
            for (method, target, status, left) in cases {
                let answer = send(&app, method, target, Some("acme-key")).await;
                assert_eq!(answer.status.as_u16(), status, "{method} {target}");
                assert_eq!(answer.policy.as_deref(), Some("\"tenant\";q=10;w=1"));
                assert_eq!(answer.state, Some(format!("\"tenant\";r={left};t=1")));
            }
            assert_eq!(
                send(&app, "DELETE", "/image/2", Some("acme-key"))
                    .await
                    .retry_after
                    .as_deref(),
                Some("5"),
                "a 409 keeps its own Retry-After"
            );
        }

        #[tokio::test]
        async fn the_429_comes_after_the_key_and_before_the_requests_values() {
            let (app, _limit) = app(1).await;
            assert_eq!(
                send(&app, "GET", "/image", Some("acme-key")).await.status,
                200
            );
            // over the limit: a bad key is still 401 / 400, not 429
            assert_eq!(
                send(&app, "GET", "/image", Some("unknown-key"))
                    .await
                    .status,
                401
            );
            assert_eq!(
                send(&app, "GET", "/image", Some("bad key")).await.status,
                400
            );
            // over the limit with bad values: 429, not 400 / 404 / 409
            for (method, target) in [
                ("GET", "/image?$top=abc"),
                ("GET", "/image?$select=id"),
                ("DELETE", "/image/abc"),
                ("DELETE", "/image/99"),
                ("DELETE", "/image/2"),
            ] {
                let answer = send(&app, method, target, Some("acme-key")).await;
                assert_eq!(answer.status, 429, "{method} {target}");
            }
        }
    }
}
