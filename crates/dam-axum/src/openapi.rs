//! The OpenAPI 3.1 document of the API (§9.3), generated from the code with utoipa: the
//! operations from the `#[utoipa::path]` attributes of the handlers in `api.rs`, the
//! parameters, bodies and answers from the types below.
//!
//! The types here exist for their schemas only: they describe what `dam-core` serializes
//! ([`dam_core::Image`], [`dam_core::ListResponse`], [`dam_core::ProblemDetails`]); a test
//! holds each schema's field names to the serialized value's.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use crate::base_path::BasePath;

/// The name of the `X-API-KEY` security scheme in the document.
pub(crate) const API_KEY_SCHEME: &str = "apiKey";

/// The document's description: what the operations share, and what schemathesis cannot
/// check against it.
const DESCRIPTION: &str = "\
DAM image API: list images with OData-style query options and delete them, one tenant per \
API key (`X-API-KEY`). Every error is an RFC 9457 problem document \
(`application/problem+json`).\n\n\
Order of checks: the key (401, 400 for a malformed one), then the rate limit (429, when \
rate limiting is on), then the request's own values (400), then existence (404), then the \
processing lock (409). A storage failure is a 500 with a generic detail.\n\n\
Rate limiting, when on, holds per tenant and **per server process**: N requests per second \
with bursts of N for each tenant on each process. With it on, every answer to an \
authenticated request carries `RateLimit-Policy` and `RateLimit` (IETF RateLimit header \
fields draft); a 429 carries `Retry-After`.\n\n\
Conformance: schemathesis runs every default check against this document except \
`positive_data_acceptance`. A string that fits the schemas below may still be refused with a \
400: `$filter` is an expression language (grammar, field types, nesting and node limits) that \
no JSON Schema can express; `$orderby` may not name a field twice; `$skiptoken` is valid only \
as the server wrote it into an `@nextLink`; `$skip` and `$skiptoken` may not be combined.";

/// One image (§1).
#[derive(ToSchema)]
#[schema(as = Image, rename_all = "camelCase")]
#[allow(dead_code)] // for the schema only
pub(crate) struct ImageSchema {
    /// Positive, unique across the store, never reused.
    #[schema(minimum = 1, example = 42)]
    id: i64,
    /// The file name, unique per tenant: 1–255 characters.
    #[schema(min_length = 1, max_length = 255, example = "product-main-front.jpg")]
    reference: String,
    /// Lower-case file extension.
    #[schema(example = "jpg")]
    file_type: String,
    status: StatusSchema,
    /// How many catalog items link to the image.
    #[schema(minimum = 0)]
    num_links: i64,
    /// UTC, `YYYY-MM-DDTHH:MM:SS` (no zone suffix).
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$",
        example = "2024-04-05T08:44:33"
    )]
    created_on: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SS`; never before `createdOn`.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$",
        example = "2024-04-05T08:44:33"
    )]
    modified_on: String,
    /// Free labels, order kept; `[]` when there are none.
    tags: Vec<String>,
    /// Where the original file is served.
    #[schema(required = true)]
    original_url: Option<String>,
    /// Small rendition; null until processing made it.
    #[schema(required = true)]
    thumbnail_url: Option<String>,
    /// Medium rendition; null until processing made it.
    #[schema(required = true)]
    thumbnail_medium_url: Option<String>,
    /// Preview rendition; null until processing made it.
    #[schema(required = true)]
    thumbnail_preview_url: Option<String>,
    /// Pixels; 0 until processing measured it.
    #[schema(minimum = 0)]
    width: i64,
    /// Pixels; 0 until processing measured it.
    #[schema(minimum = 0)]
    height: i64,
    /// Size of the original file.
    #[schema(minimum = 0)]
    size_in_bytes: i64,
}

/// Processing state: `Vd` void, `Up` updating, `Ok` processed, `Re` reprocessing, `Er`
/// failed. An image is locked against deletion while `Up` or `Re`.
#[derive(ToSchema)]
#[schema(as = ImageStatus)]
#[allow(dead_code)] // for the schema only
pub(crate) enum StatusSchema {
    Vd,
    Up,
    Ok,
    Re,
    Er,
}

/// A page of images (§3).
#[derive(ToSchema)]
#[schema(as = ImageList)]
#[allow(dead_code)] // for the schema only
pub(crate) struct ImageListSchema {
    /// The images of this page, in the list order (`$orderby`, then `id` ascending).
    items: Vec<ImageSchema>,
    /// With `$count=true`: how many images match `$filter` in all.
    #[schema(rename = "@count", minimum = 0, value_type = i64, required = false)]
    count: Option<i64>,
    /// When more matches follow: the relative URL of the next page, to follow as it is.
    #[schema(rename = "@nextLink", value_type = String, required = false, example = "/image?$top=100&$skiptoken=AQAAAAAAAAAAAAAAAAAAAGQ")]
    next_link: Option<String>,
}

/// An RFC 9457 problem document (§6).
#[derive(ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // for the schema only
pub(crate) struct ProblemSchema {
    /// `{base}/{slug}`, e.g. `https://api2.saleslayer.com/errors/validation`.
    #[schema(
        rename = "type",
        example = "https://api2.saleslayer.com/errors/validation"
    )]
    problem_type: String,
    /// The status's reason phrase, e.g. `Bad Request`.
    #[schema(example = "Bad Request")]
    title: String,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599, example = 400)]
    status: u16,
    /// What was wrong, for a person; generic for a 500.
    detail: String,
    /// The request path, without the query string.
    #[schema(example = "/image")]
    instance: String,
    /// 400 only: every problem found, for machines.
    #[schema(value_type = Vec<ProblemErrorSchema>, required = false)]
    errors: Option<Vec<ProblemErrorSchema>>,
}

/// One entry of a 400's `errors`.
#[derive(ToSchema)]
#[schema(as = ProblemError)]
#[allow(dead_code)] // for the schema only
pub(crate) struct ProblemErrorSchema {
    /// The option name (`$filter`, …), `X-API-KEY` for the key, `id` for the image id.
    parameter: String,
    /// What was wrong.
    message: String,
    /// 0-based character offset into the form-decoded value, where it applies.
    #[schema(minimum = 0, value_type = i64, required = false)]
    position: Option<i64>,
}

/// The query options of `GET /image` (§3). Names are case-sensitive and given at most once;
/// another `$…` option is a 400, options without `$` are ignored.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // for the parameters only
pub(crate) struct ListOptions {
    /// A boolean expression over the image fields (OData-style: `eq ne gt ge lt le`, `and or
    /// not`, `in (…)`, `contains`/`startswith`/`endswith`, `tags/any(t: t eq '…')`). At most
    /// 4096 bytes, 32 levels of nesting, 256 nodes, 100 items in an `in` list, 1024 bytes in a
    /// string literal. Empty or invalid → 400 with the position of the problem.
    #[param(
        rename = "$filter",
        min_length = 1,
        max_length = 4096,
        example = "status eq 'Ok' and numLinks ge 5"
    )]
    filter: Option<String>,
    /// Comma-separated `field [asc|desc]` over `id`, `reference`, `fileType`, `status`,
    /// `numLinks`, `createdOn`, `modifiedOn`, `width`, `height`, `sizeInBytes`, each field at
    /// most once; at most 1024 bytes. Ties are always broken by `id` ascending.
    #[param(
        rename = "$orderby",
        min_length = 1,
        max_length = 1024,
        pattern = r"^ *(id|reference|fileType|status|numLinks|createdOn|modifiedOn|width|height|sizeInBytes)( +(asc|desc))? *(, *(id|reference|fileType|status|numLinks|createdOn|modifiedOn|width|height|sizeInBytes)( +(asc|desc))? *)*$",
        example = "createdOn desc,reference"
    )]
    orderby: Option<String>,
    /// Page size, 0–100 (default 100); never clamped.
    #[param(rename = "$top", minimum = 0, maximum = 100)]
    top: Option<i64>,
    /// Matches to skip (default 0).
    #[param(rename = "$skip", minimum = 0)]
    skip: Option<i64>,
    /// `true`: the answer carries `@count`, the number of all matches.
    #[param(rename = "$count")]
    count: Option<bool>,
    /// Where the next page starts: an opaque value (unpadded base64url, at most 2048
    /// characters) that only the server writes into `@nextLink`; follow the link, never build
    /// one. Anything else, one used with another `$filter`/`$orderby` than it was written
    /// for, or one given with `$skip` → 400.
    #[param(
        rename = "$skiptoken",
        min_length = 1,
        max_length = 2048,
        pattern = r"^[A-Za-z0-9_-]+$"
    )]
    skiptoken: Option<String>,
}

/// The answers of `GET /image`.
#[derive(IntoResponses)]
#[allow(dead_code)] // for the responses only
pub(crate) enum ListAnswers {
    /// A page of images.
    #[response(status = 200, content_type = "application/json", headers(
        ("RateLimit-Policy" = String, description = "With rate limiting on: `\"tenant\";q=N;w=1`."),
        ("RateLimit" = String, description = "With rate limiting on: `\"tenant\";r=R;t=T`, R requests left, T seconds until the quota is full again."),
    ))]
    Page(ImageListSchema),
    /// A malformed key, a bad or unsupported query option (`errors` lists each).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(ProblemSchema),
    /// No key, a blank one, or one that no tenant owns.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// A request body larger than the limit (the API takes none).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemSchema),
    /// With rate limiting on: the tenant's quota is spent.
    #[response(status = 429, content_type = "application/problem+json", headers(
        ("Retry-After" = u32, description = "Whole seconds (at least 1) until a request would pass."),
        ("RateLimit-Policy" = String, description = "`\"tenant\";q=N;w=1`."),
        ("RateLimit" = String, description = "`\"tenant\";r=0;t=T`."),
    ))]
    TooManyRequests(ProblemSchema),
    /// Storage failed (generic detail).
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemSchema),
    /// The request took longer than the server's time limit.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

/// The answers of `DELETE /image/{id}`.
#[derive(IntoResponses)]
#[allow(dead_code)] // for the responses only
pub(crate) enum DeleteAnswers {
    /// Deleted.
    #[response(status = 204, headers(
        ("RateLimit-Policy" = String, description = "With rate limiting on: `\"tenant\";q=N;w=1`."),
        ("RateLimit" = String, description = "With rate limiting on: `\"tenant\";r=R;t=T`."),
    ))]
    Deleted,
    /// A malformed key, or an id that is not a decimal integer from 1 to
    /// 9223372036854775807 written with digits only.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(ProblemSchema),
    /// No key, a blank one, or one that no tenant owns.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// No image with this id for the caller's tenant (never existed, deleted, or another
    /// tenant's: the same answer).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemSchema),
    /// The image is being processed (`Up` or `Re`): retry later.
    #[response(status = 409, content_type = "application/problem+json", headers(
        ("Retry-After" = u32, description = "Whole seconds (at least 1) to wait before retrying."),
    ))]
    Conflict(ProblemSchema),
    /// A request body larger than the limit (the API takes none).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemSchema),
    /// With rate limiting on: the tenant's quota is spent.
    #[response(status = 429, content_type = "application/problem+json", headers(
        ("Retry-After" = u32, description = "Whole seconds (at least 1) until a request would pass."),
    ))]
    TooManyRequests(ProblemSchema),
    /// Storage failed (generic detail).
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemSchema),
    /// The request took longer than the server's time limit.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

#[derive(OpenApi)]
#[openapi(
    info(title = "DAM image API", description = DESCRIPTION),
    paths(crate::api::list_images, crate::api::delete_image),
    components(schemas(ImageSchema, StatusSchema, ImageListSchema, ProblemSchema, ProblemErrorSchema)),
    modifiers(&Finishing),
    tags((name = "images", description = "The image operations (§3, §4)")),
)]
struct ApiDoc;

/// What the attributes cannot say: the key's security scheme and `HEAD /image`.
///
/// No `links` (a page's ids to `deleteImage`): utoipa 5's `Link` serializes its field names
/// in snake case (`operation_id`), which is not OpenAPI; schemathesis infers the link from
/// the schemas instead.
struct Finishing;

impl Modify for Finishing {
    fn modify(&self, document: &mut Document) {
        document
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                API_KEY_SCHEME,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-API-KEY",
                    "The tenant's API key: 1–256 visible ASCII characters.",
                ))),
            );
        if let Some(item) = document.paths.paths.get_mut("/image") {
            // HEAD is GET without a body: the same parameters, statuses and headers.
            if let Some(mut head) = item.get.clone() {
                head.operation_id = Some("headImages".into());
                head.summary = Some("Like GET /image, without the body".into());
                for response in head.responses.responses.values_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response {
                        response.content.clear();
                    }
                }
                item.head = Some(head);
            }
        }
    }
}

/// The OpenAPI 3.1 document of the two operations at the root (`GET`/`HEAD /image`,
/// `DELETE /image/{id}`): for a host to merge into its own
/// ([`utoipa::openapi::OpenApi::merge`]) or to serve. [`DamApi::openapi`] gives it under the
/// API's public base path, [`prefix_paths`] under any prefix.
///
/// [`DamApi::openapi`]: crate::DamApi::openapi
///
/// ```
/// let document = dam_axum::openapi();
/// assert!(document.paths.paths.contains_key("/image"));
/// assert!(document.paths.paths.contains_key("/image/{id}"));
/// ```
pub fn openapi() -> Document {
    ApiDoc::openapi()
}

/// `document` with every path under `base` (`/dam/v2/image`, …), for routes served under a
/// prefix; the root leaves it as it is.
///
/// ```
/// use dam_axum::BasePath;
/// let base = BasePath::parse("/dam/v2").unwrap();
/// let document = dam_axum::prefix_paths(dam_axum::openapi(), &base);
/// assert!(document.paths.paths.contains_key("/dam/v2/image/{id}"));
/// ```
pub fn prefix_paths(mut document: Document, base: &BasePath) -> Document {
    if !base.is_root() {
        let paths = std::mem::take(&mut document.paths.paths);
        document.paths.paths = paths
            .into_iter()
            .map(|(path, item)| (base.join(&path), item))
            .collect();
    }
    document
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use dam_core::query::{MAX_FILTER_BYTES, MAX_ORDERBY_BYTES, MAX_SKIPTOKEN_CHARS, MAX_TOP};
    use dam_core::store::SeedStore;
    use dam_core::{Fixture, ImageService};
    use dam_store_memory::MemoryStore;
    use serde_json::Value;

    use super::*;

    fn document() -> Value {
        serde_json::to_value(openapi()).expect("the document serializes")
    }

    fn properties(document: &Value, schema: &str) -> BTreeSet<String> {
        document["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has properties"))
            .keys()
            .cloned()
            .collect()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    }

    /// The mirror types name exactly the members that dam-core serializes.
    #[tokio::test]
    async fn the_schemas_have_the_members_of_the_served_values() {
        let fixture = Fixture::from_json(
            r#"{ "tenants": [ { "name": "acme", "apiKeys": ["acme-key"], "images": [
                { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33" },
                { "id": 2, "reference": "b.jpg", "fileType": "jpg", "status": "Up", "createdOn": "2024-04-05T08:44:33" } ] } ] }"#,
        )
        .expect("fixture");
        let store = Arc::new(MemoryStore::new());
        store.load_fixture(&fixture).await.expect("load");
        let service = ImageService::new(store.clone(), store);
        let page = service
            .list_images(Some(b"acme-key"), Some("$top=1&$count=true"), "/image")
            .await
            .expect("a page");
        let page = serde_json::to_value(page).expect("serializes");
        let problem = service
            .list_images(Some(b"acme-key"), Some("$filter=id%20eq"), "/image")
            .await
            .expect_err("a 400");
        let problem = serde_json::to_value(problem).expect("serializes");
        let doc = document();
        assert_eq!(properties(&doc, "ImageList"), keys(&page));
        assert_eq!(properties(&doc, "Image"), keys(&page["items"][0]));
        assert_eq!(properties(&doc, "Problem"), keys(&problem));
        assert_eq!(
            properties(&doc, "ProblemError"),
            keys(&problem["errors"][0])
        );
    }

    /// The documented limits are dam-core's.
    #[test]
    fn the_parameters_carry_the_limits_of_dam_core() {
        let doc = document();
        let schema = |name: &str| {
            doc["paths"]["/image"]["get"]["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))["schema"]
                .clone()
        };
        assert_eq!(schema("$top")["maximum"], MAX_TOP);
        assert_eq!(schema("$filter")["maxLength"], MAX_FILTER_BYTES);
        assert_eq!(schema("$orderby")["maxLength"], MAX_ORDERBY_BYTES);
        assert_eq!(schema("$skiptoken")["maxLength"], MAX_SKIPTOKEN_CHARS);
        assert_eq!(schema("$skip")["minimum"], 0);
        // HEAD has GET's parameters and statuses, without bodies
        let head = &doc["paths"]["/image"]["head"];
        assert_eq!(
            head["parameters"],
            doc["paths"]["/image"]["get"]["parameters"]
        );
        assert!(head["responses"]["200"]["content"].is_null());
    }

    #[test]
    fn a_prefix_moves_every_path() {
        let base = BasePath::parse("/dam").expect("base path");
        let moved = prefix_paths(openapi(), &base);
        let paths: Vec<&String> = moved.paths.paths.keys().collect();
        assert_eq!(paths, ["/dam/image", "/dam/image/{id}"]);
        assert_eq!(
            prefix_paths(openapi(), &BasePath::root()).paths.paths.len(),
            2
        );
    }
}
