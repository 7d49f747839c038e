//! RFC 9457 problem details (contract §6).

use serde::{Deserialize, Serialize};

/// The default `type` base: `https://api2.saleslayer.com/errors`.
pub const DEFAULT_TYPE_BASE: &str = "https://api2.saleslayer.com/errors";

/// The media type of a problem document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// The kinds of problem the API answers with: one status, slug and title each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// 400 `validation` Bad Request.
    Validation,
    /// 401 `unauthorized` Unauthorized.
    Unauthorized,
    /// 404 `not-found` Not Found.
    NotFound,
    /// 405 `method-not-allowed` Method Not Allowed.
    MethodNotAllowed,
    /// 409 `conflict` Conflict.
    Conflict,
    /// 500 `internal` Internal Server Error.
    Internal,
    /// 503 `unavailable` Service Unavailable (the store does not answer).
    Unavailable,
}

impl ProblemKind {
    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            ProblemKind::Validation => 400,
            ProblemKind::Unauthorized => 401,
            ProblemKind::NotFound => 404,
            ProblemKind::MethodNotAllowed => 405,
            ProblemKind::Conflict => 409,
            ProblemKind::Internal => 500,
            ProblemKind::Unavailable => 503,
        }
    }

    /// The last segment of `type`.
    pub const fn slug(self) -> &'static str {
        match self {
            ProblemKind::Validation => "validation",
            ProblemKind::Unauthorized => "unauthorized",
            ProblemKind::NotFound => "not-found",
            ProblemKind::MethodNotAllowed => "method-not-allowed",
            ProblemKind::Conflict => "conflict",
            ProblemKind::Internal => "internal",
            ProblemKind::Unavailable => "unavailable",
        }
    }

    /// The status's reason phrase.
    pub const fn title(self) -> &'static str {
        match self {
            ProblemKind::Validation => "Bad Request",
            ProblemKind::Unauthorized => "Unauthorized",
            ProblemKind::NotFound => "Not Found",
            ProblemKind::MethodNotAllowed => "Method Not Allowed",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::Internal => "Internal Server Error",
            ProblemKind::Unavailable => "Service Unavailable",
        }
    }
}

/// One machine-readable entry of a 400's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemError {
    /// The option name (`$filter`, …), `X-API-KEY` for the key, `id` for the image id.
    pub parameter: String,
    /// What was wrong.
    pub message: String,
    /// 0-based character offset into the decoded value, where it applies.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub position: Option<usize>,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// `{base}/{slug}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// A human sentence: what was wrong and where (generic for 500).
    pub detail: String,
    /// The request path, without query string.
    pub instance: String,
    /// For 400: the errors, for machines.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub errors: Option<Vec<ProblemError>>,
}

impl ProblemDetails {
    /// A problem of `kind` with the given detail.
    pub fn new(
        kind: ProblemKind,
        type_base: &str,
        detail: impl Into<String>,
        instance: impl Into<String>,
    ) -> Self {
        ProblemDetails {
            problem_type: format!("{}/{}", type_base.trim_end_matches('/'), kind.slug()),
            title: kind.title().to_string(),
            status: kind.status(),
            detail: detail.into(),
            instance: instance.into(),
            errors: None,
        }
    }

    /// The 404 for a path outside the API.
    pub fn unknown_path(type_base: &str, path: &str) -> Self {
        ProblemDetails::new(
            ProblemKind::NotFound,
            type_base,
            "No resource exists at this path.",
            path,
        )
    }

    /// The 405 for a known path with another method; `allow` lists the methods it takes.
    pub fn method_not_allowed(type_base: &str, path: &str, method: &str, allow: &str) -> Self {
        let method: String = method
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .take(16)
            .collect();
        ProblemDetails::new(
            ProblemKind::MethodNotAllowed,
            type_base,
            format!("The method {method} is not allowed here; allowed: {allow}."),
            path,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_the_exact_rfc9457_members() {
        let p = ProblemDetails::new(ProblemKind::Conflict, DEFAULT_TYPE_BASE, "busy", "/image/7");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "https://api2.saleslayer.com/errors/conflict",
                "title": "Conflict", "status": 409, "detail": "busy", "instance": "/image/7"
            })
        );
    }

    #[test]
    fn errors_array_keeps_position_only_where_it_applies() {
        let mut p = ProblemDetails::new(ProblemKind::Validation, "https://x/", "bad", "/image");
        p.errors = Some(vec![
            ProblemError {
                parameter: "$filter".into(),
                message: "m".into(),
                position: Some(9),
            },
            ProblemError {
                parameter: "$top".into(),
                message: "n".into(),
                position: None,
            },
        ]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "https://x/validation");
        assert_eq!(json["errors"][0]["position"], 9);
        assert!(json["errors"][1].get("position").is_none());
    }
}
