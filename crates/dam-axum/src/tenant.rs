//! Who is asking: the tenant of a request, resolved before anything else (§2).
//!
//! The default, [`ApiKeyResolver`], reads `X-API-KEY` as the contract says. A host with its
//! own authentication (bearer tokens, sessions, mTLS) implements [`TenantResolver`], or lets
//! its own middleware put a [`TenantId`] into the request's extensions and uses
//! [`TenantFromExtensions`].

use std::borrow::Cow;

use async_trait::async_trait;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use dam_core::error_chain;
use dam_core::ProblemKind;
use dam_core::{DamError, ImageService, ProblemDetails, ProblemError, TenantId};

use crate::problem::INTERNAL_DETAIL;

/// The header that carries the API key (matched case-insensitively, as all header names).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Resolves the tenant of a request from its head (method, URI, headers, extensions).
///
/// Called once per request to the two API routes, before the request's own values are
/// looked at (§2's order of checks). A refusal becomes the request's answer.
///
/// ```
/// use axum::http::request::Parts;
/// use dam_axum::{async_trait, Refusal, TenantResolver};
/// use dam_core::TenantId;
///
/// /// Every request belongs to one tenant (a single-tenant deployment behind a gateway).
/// struct OneTenant(TenantId);
///
/// #[async_trait]
/// impl TenantResolver for OneTenant {
///     async fn resolve(&self, _request: &Parts) -> Result<TenantId, Refusal> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
#[async_trait]
pub trait TenantResolver: Send + Sync + 'static {
    /// The tenant of the request, or why it is refused.
    ///
    /// Errors: [`Refusal`]; its [`Refusal::Unauthorized`] is the contract's 401 problem.
    async fn resolve(&self, request: &Parts) -> Result<TenantId, Refusal>;
}

/// Why a request has no tenant. Each variant is one problem answer; none shows a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No credentials, or credentials that no tenant owns: 401 `unauthorized` with this
    /// detail (a sentence for the client; never the credential itself).
    #[error("{0}")]
    Unauthorized(Cow<'static, str>),
    /// Credentials present but malformed: 400 `validation` with this detail, and an `errors`
    /// entry naming `parameter` (e.g. the header).
    #[error("{detail}")]
    Malformed {
        /// What was malformed, e.g. `Authorization`.
        parameter: Cow<'static, str>,
        /// What was wrong (never the credential itself).
        detail: Cow<'static, str>,
    },
    /// The lookup itself failed: a generic 500; the cause is logged, never shown.
    #[error("the tenant lookup failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// What the service's own key check answered (401, 400, or 500 for a storage failure).
    #[error(transparent)]
    Key(DamError),
}

impl Refusal {
    /// A 401 with `detail`.
    pub fn unauthorized(detail: impl Into<Cow<'static, str>>) -> Self {
        Refusal::Unauthorized(detail.into())
    }

    /// The problem document of this refusal for a request to `instance`.
    pub(crate) fn to_problem(&self, service: &ImageService, instance: &str) -> ProblemDetails {
        let type_base = service.config().problem_type_base.as_str();
        match self {
            Refusal::Unauthorized(detail) => {
                ProblemDetails::new(ProblemKind::Unauthorized, type_base, &**detail, instance)
            }
            Refusal::Malformed { parameter, detail } => {
                let mut problem =
                    ProblemDetails::new(ProblemKind::Validation, type_base, &**detail, instance);
                problem.errors = Some(vec![ProblemError {
                    parameter: parameter.to_string(),
                    message: detail.to_string(),
                    position: None,
                }]);
                problem
            }
            Refusal::Failed(cause) => {
                tracing::error!(error = %error_chain(&**cause), "tenant lookup failed");
                ProblemDetails::new(ProblemKind::Internal, type_base, INTERNAL_DETAIL, instance)
            }
            Refusal::Key(error) => service.problem(error, instance),
        }
    }
}

/// The contract's own authentication: the `X-API-KEY` header, looked up through the
/// service's key store. Missing, empty or blank → 401; malformed → 400; a key no tenant
/// owns → 401 (§2).
#[derive(Clone)]
pub struct ApiKeyResolver {
    service: ImageService,
}

impl ApiKeyResolver {
    /// Resolves keys through `service`'s key store.
    pub fn new(service: ImageService) -> Self {
        ApiKeyResolver { service }
    }
}

#[async_trait]
impl TenantResolver for ApiKeyResolver {
    async fn resolve(&self, request: &Parts) -> Result<TenantId, Refusal> {
        let key = api_key(&request.headers);
        self.service
            .authenticate(key.as_deref())
            .await
            .map_err(Refusal::Key)
    }
}

/// The tenant that the host's own middleware put into the request's extensions (an
/// `extensions.insert(tenant_id)` after its authentication). No tenant there → 401, so a
/// missing middleware refuses every request instead of serving one by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct TenantFromExtensions;

#[async_trait]
impl TenantResolver for TenantFromExtensions {
    async fn resolve(&self, request: &Parts) -> Result<TenantId, Refusal> {
        request
            .extensions
            .get::<TenantId>()
            .cloned()
            .ok_or_else(|| Refusal::unauthorized("The request is not authenticated."))
    }
}

/// The raw `X-API-KEY` value. A repeated header is one value joined with `", "` (RFC 9110
/// §5.3), which is not a well-formed key, so the service refuses it with a 400.
fn api_key(headers: &HeaderMap) -> Option<Vec<u8>> {
    let mut values = headers.get_all(API_KEY_HEADER).iter();
    let first = values.next()?;
    let mut key = first.as_bytes().to_vec();
    for more in values {
        key.extend_from_slice(b", ");
        key.extend_from_slice(more.as_bytes());
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_key_header_is_found_whatever_its_case_and_repeats_are_joined() {
        let mut headers = HeaderMap::new();
        assert_eq!(api_key(&headers), None);
        headers.append("X-Api-Key", HeaderValue::from_static("k1"));
        assert_eq!(api_key(&headers), Some(b"k1".to_vec()));
        headers.append("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(api_key(&headers), Some(b"k1, k2".to_vec()));
    }
}
