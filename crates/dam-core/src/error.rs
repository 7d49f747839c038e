//! The one error taxonomy of the service, and its mapping to problem details (contract §6).

use crate::image::ImageId;
use crate::problem::{ProblemDetails, ProblemError, ProblemKind};
use crate::query::QueryError;
use crate::store::StoreError;

/// Every failure the service facade can answer with.
///
/// Each variant maps to exactly one status, `type` slug and title ([`DamError::kind`]); the
/// `detail` is [`DamError`]'s `Display`, except for storage failures, whose cause never
/// reaches a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DamError {
    /// No `X-API-KEY` header, or one that is empty or only white space (401).
    #[error("The X-API-KEY header is missing or empty.")]
    MissingApiKey,
    /// An `X-API-KEY` value that cannot be a key (400).
    #[error("The X-API-KEY header is malformed: {reason}.")]
    MalformedApiKey {
        /// What is wrong with it (never the key itself).
        reason: &'static str,
    },
    /// A well-formed key that no tenant owns (401).
    #[error("The API key is not valid.")]
    UnknownApiKey,
    /// A bad query option (400).
    #[error(transparent)]
    InvalidQuery(#[from] QueryError),
    /// A `{id}` that is not an integer from 1 to 9223372036854775807 (400).
    #[error("invalid image identifier: the id must be a decimal integer from 1 to 9223372036854775807, digits only.")]
    InvalidImageId,
    /// No such image for the caller's tenant (404).
    #[error("No image with id {id} exists.")]
    ImageNotFound {
        /// The id asked for.
        id: ImageId,
    },
    /// The image is being processed (`Up` or `Re`) and cannot be deleted now (409).
    #[error("Image {id} is being processed and cannot be deleted now. Retry later.")]
    ImageBeingProcessed {
        /// The id asked for.
        id: ImageId,
    },
    /// Storage failed (500). The cause is kept for logs, never shown in a response.
    #[error("The request could not be completed because of an internal error.")]
    Storage(#[source] StoreError),
    /// The store does not answer, or not in time (503). The cause is kept for logs, never
    /// shown in a response.
    #[error("The service cannot reach its storage now. Retry later.")]
    Unavailable(#[source] StoreError),
}

impl DamError {
    /// The problem kind (status, slug, title) of this error.
    pub fn kind(&self) -> ProblemKind {
        match self {
            DamError::MissingApiKey | DamError::UnknownApiKey => ProblemKind::Unauthorized,
            DamError::MalformedApiKey { .. }
            | DamError::InvalidQuery(_)
            | DamError::InvalidImageId => ProblemKind::Validation,
            DamError::ImageNotFound { .. } => ProblemKind::NotFound,
            DamError::ImageBeingProcessed { .. } => ProblemKind::Conflict,
            DamError::Storage(_) => ProblemKind::Internal,
            DamError::Unavailable(_) => ProblemKind::Unavailable,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.kind().status()
    }

    /// The problem document of this error for a request to `instance` (the path, without
    /// query string), with `type` under `type_base`.
    ///
    /// ```
    /// use dam_core::DamError;
    /// let p = DamError::MissingApiKey.to_problem("https://example.org/errors", "/image");
    /// assert_eq!(p.status, 401);
    /// assert_eq!(p.problem_type, "https://example.org/errors/unauthorized");
    /// assert_eq!(p.title, "Unauthorized");
    /// assert_eq!(p.instance, "/image");
    /// ```
    pub fn to_problem(&self, type_base: &str, instance: &str) -> ProblemDetails {
        let mut problem = ProblemDetails::new(self.kind(), type_base, self.to_string(), instance);
        let entry = match self {
            DamError::InvalidQuery(e) => Some(ProblemError {
                parameter: e.parameter().to_string(),
                message: e.to_string(),
                position: e.position(),
            }),
            DamError::MalformedApiKey { .. } => Some(ProblemError {
                parameter: "X-API-KEY".into(),
                message: self.to_string(),
                position: None,
            }),
            DamError::InvalidImageId => Some(ProblemError {
                parameter: "id".into(),
                message: self.to_string(),
                position: None,
            }),
            _ => None,
        };
        problem.errors = entry.map(|e| vec![e]);
        problem
    }
}

impl From<StoreError> for DamError {
    fn from(e: StoreError) -> Self {
        DamError::Storage(e)
    }
}

/// An error and its sources, one after the other (`outer: inner: …`), for a log line or a
/// start-up message. Never put this in a response: sources may hold internal detail.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
