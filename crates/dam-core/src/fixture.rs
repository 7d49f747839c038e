//! The fixture file of contract §7: tenants, their API keys and their images, validated as a
//! whole before anything reaches a store (all or nothing).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::auth::{ApiKey, KeyDigest};
use crate::image::{FileType, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp};

/// Why a fixture file was refused. Messages name the culprit (tenant, image id, field) and
/// never hold an API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// Not JSON of the §7 shape (unknown or missing field, wrong type, bad value).
    #[error("the fixture is not valid: {0}")]
    Invalid(String),
    /// A tenant name given twice.
    #[error("tenant '{0}' is given twice")]
    DuplicateTenant(String),
    /// An image id given twice (ids are unique across tenants).
    #[error("image id {0} is given twice")]
    DuplicateId(i64),
    /// A reference repeated within one tenant.
    #[error("tenant '{tenant}': reference '{reference}' is given twice")]
    DuplicateReference {
        /// The tenant.
        tenant: String,
        /// The reference.
        reference: String,
    },
    /// One key listed twice (under two tenants, or twice under one).
    #[error("API key #{index} of tenant '{tenant}' is already listed (under tenant '{first}')")]
    DuplicateKey {
        /// Where it is listed again.
        tenant: String,
        /// Its 1-based position in that tenant's `apiKeys`.
        index: usize,
        /// The tenant that listed it first.
        first: String,
    },
    /// A key that is not 1–256 characters of visible ASCII.
    #[error(
        "API key #{index} of tenant '{tenant}' is malformed (1 to 256 visible ASCII characters)"
    )]
    MalformedKey {
        /// The tenant.
        tenant: String,
        /// Its 1-based position in `apiKeys`.
        index: usize,
    },
    /// An image that breaks a rule of §1.
    #[error("tenant '{tenant}', image {id}: {reason}")]
    InvalidImage {
        /// The tenant.
        tenant: String,
        /// The image id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
}

/// The data of one tenant in a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantData {
    /// The tenant.
    pub tenant: TenantId,
    /// Digests of its API keys.
    pub keys: Vec<KeyDigest>,
    /// Its images, with their given ids.
    pub images: Vec<Image>,
}

/// A validated fixture: what [`crate::store::SeedStore::load_fixture`] loads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fixture {
    /// The tenants, in file order.
    pub tenants: Vec<TenantData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    tenants: Vec<RawTenant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTenant {
    name: String,
    #[serde(default, deserialize_with = "api_keys")]
    api_keys: Vec<String>,
    #[serde(default)]
    images: Vec<RawImage>,
}

/// `apiKeys`: an array of strings. serde's own type errors quote the value they met
/// (`invalid type: string "the-key", expected a sequence`), which would put a key into the
/// error; this one names only what was expected.
fn api_keys<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let expected = || serde::de::Error::custom("apiKeys must be an array of strings");
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(key) => Ok(key),
                _ => Err(expected()),
            })
            .collect(),
        _ => Err(expected()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawImage {
    id: i64,
    reference: String,
    file_type: String,
    status: String,
    #[serde(default)]
    num_links: i64,
    created_on: String,
    modified_on: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    original_url: Option<String>,
    #[serde(default)]
    thumbnail_url: Option<String>,
    #[serde(default)]
    thumbnail_medium_url: Option<String>,
    #[serde(default)]
    thumbnail_preview_url: Option<String>,
    #[serde(default)]
    width: i64,
    #[serde(default)]
    height: i64,
    #[serde(default)]
    size_in_bytes: i64,
}

impl RawImage {
    fn into_image(self) -> Result<Image, String> {
        let id = ImageId::new(self.id).map_err(|e| e.to_string())?;
        let reference = Reference::new(self.reference).map_err(|e| format!("reference: {e}"))?;
        let file_type = FileType::new(self.file_type).map_err(|e| format!("fileType: {e}"))?;
        let status = ImageStatus::from_code(&self.status).map_err(|e| format!("status: {e}"))?;
        let created_on =
            Timestamp::parse(&self.created_on).map_err(|e| format!("createdOn: {e}"))?;
        let modified_on = match &self.modified_on {
            Some(text) => Timestamp::parse(text).map_err(|e| format!("modifiedOn: {e}"))?,
            None => created_on,
        };
        let image = Image {
            id,
            reference,
            file_type,
            status,
            num_links: self.num_links,
            created_on,
            modified_on,
            tags: self.tags,
            original_url: self.original_url,
            thumbnail_url: self.thumbnail_url,
            thumbnail_medium_url: self.thumbnail_medium_url,
            thumbnail_preview_url: self.thumbnail_preview_url,
            width: self.width,
            height: self.height,
            size_in_bytes: self.size_in_bytes,
        };
        image.validate().map_err(|e| e.to_string())?;
        Ok(image)
    }
}

impl Fixture {
    /// Parses and validates a fixture file (§7, §8). Nothing is half-accepted: any error
    /// refuses the whole file.
    ///
    /// ```
    /// use dam_core::Fixture;
    /// let f = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": ["k1"],
    ///   "images": [ { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
    ///   "createdOn": "2024-04-05T08:44:33" } ] } ] }"#).unwrap();
    /// assert_eq!(f.tenants[0].images[0].num_links, 0);
    /// assert!(Fixture::from_json(r#"{ "tenants": [], "extra": 1 }"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Self, FixtureError> {
        let raw: RawFixture =
            serde_json::from_str(text).map_err(|e| FixtureError::Invalid(e.to_string()))?;
        let mut tenants = Vec::with_capacity(raw.tenants.len());
        let mut tenant_names = HashSet::new();
        let mut ids = HashSet::new();
        let mut key_owner: HashMap<KeyDigest, String> = HashMap::new();
        for raw_tenant in raw.tenants {
            let name = raw_tenant.name;
            let tenant = TenantId::new(name.clone())
                .map_err(|e| FixtureError::Invalid(format!("tenant name: {e}")))?;
            if !tenant_names.insert(name.clone()) {
                return Err(FixtureError::DuplicateTenant(name));
            }
            let mut keys = Vec::with_capacity(raw_tenant.api_keys.len());
            for (i, key) in raw_tenant.api_keys.iter().enumerate() {
                let index = i + 1;
                let key = ApiKey::from_header(Some(key.as_bytes())).map_err(|_| {
                    FixtureError::MalformedKey {
                        tenant: name.clone(),
                        index,
                    }
                })?;
                let digest = key.digest();
                if let Some(first) = key_owner.get(&digest) {
                    return Err(FixtureError::DuplicateKey {
                        tenant: name.clone(),
                        index,
                        first: first.clone(),
                    });
                }
                key_owner.insert(digest, name.clone());
                keys.push(digest);
            }
            let mut references = HashSet::new();
            let mut images = Vec::with_capacity(raw_tenant.images.len());
            for raw_image in raw_tenant.images {
                let id = raw_image.id;
                let image =
                    raw_image
                        .into_image()
                        .map_err(|reason| FixtureError::InvalidImage {
                            tenant: name.clone(),
                            id,
                            reason,
                        })?;
                if !ids.insert(id) {
                    return Err(FixtureError::DuplicateId(id));
                }
                if !references.insert(image.reference.as_str().to_string()) {
                    return Err(FixtureError::DuplicateReference {
                        tenant: name.clone(),
                        reference: image.reference.as_str().to_string(),
                    });
                }
                images.push(image);
            }
            tenants.push(TenantData {
                tenant,
                keys,
                images,
            });
        }
        Ok(Fixture { tenants })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: i64, reference: &str) -> String {
        format!(
            r#"{{ "id": {id}, "reference": "{reference}", "fileType": "jpg", "status": "Ok",
            "createdOn": "2024-04-05T08:44:33" }}"#
        )
    }

    fn tenant(name: &str, keys: &[&str], images: &[String]) -> String {
        let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
        format!(
            r#"{{ "name": "{name}", "apiKeys": [{}], "images": [{}] }}"#,
            keys.join(","),
            images.join(",")
        )
    }

    fn fixture(tenants: &[String]) -> Result<Fixture, FixtureError> {
        Fixture::from_json(&format!(r#"{{ "tenants": [{}] }}"#, tenants.join(",")))
    }

    #[test]
    fn defaults_are_applied() {
        let f = fixture(&[tenant("acme", &["k"], &[image(1, "a.jpg")])]).unwrap();
        let im = &f.tenants[0].images[0];
        assert_eq!(im.modified_on, im.created_on);
        assert!(im.tags.is_empty());
        assert_eq!(im.original_url, None);
        assert_eq!(
            (im.width, im.height, im.size_in_bytes, im.num_links),
            (0, 0, 0, 0)
        );
        assert_eq!(f.tenants[0].keys, vec![KeyDigest::of("k")]);
    }

    #[test]
    fn each_clash_names_its_culprit() {
        let e = fixture(&[tenant("a", &[], &[image(1, "x"), image(1, "y")])]).unwrap_err();
        assert_eq!(e, FixtureError::DuplicateId(1));
        let e = fixture(&[
            tenant("a", &[], &[image(1, "x")]),
            tenant("b", &[], &[image(1, "y")]),
        ])
        .unwrap_err();
        assert_eq!(e, FixtureError::DuplicateId(1));
        let e = fixture(&[tenant("a", &[], &[image(1, "x"), image(2, "x")])]).unwrap_err();
        assert!(matches!(e, FixtureError::DuplicateReference { .. }));
        assert!(e.to_string().contains("'x'"));
        // the same reference in two tenants is fine
        assert!(fixture(&[
            tenant("a", &[], &[image(1, "x")]),
            tenant("b", &[], &[image(2, "x")])
        ])
        .is_ok());
        let e = fixture(&[tenant("a", &[], &[]), tenant("a", &[], &[])]).unwrap_err();
        assert_eq!(e, FixtureError::DuplicateTenant("a".into()));
        let e = fixture(&[
            tenant("a", &["secret-k"], &[]),
            tenant("b", &["secret-k"], &[]),
        ])
        .unwrap_err();
        assert!(matches!(e, FixtureError::DuplicateKey { .. }));
        assert!(!e.to_string().contains("secret-k"));
        let e = fixture(&[tenant("a", &["bad key"], &[])]).unwrap_err();
        assert!(matches!(e, FixtureError::MalformedKey { index: 1, .. }));
    }

    #[test]
    fn a_mistyped_api_key_list_is_refused_without_quoting_the_key() {
        for keys in [
            r#""secret-k""#,
            r#"{"secret-k": 1}"#,
            r#"["ok-key", ["secret-k"]]"#,
            r#"[{"key": "secret-k"}]"#,
        ] {
            let json = format!(r#"{{"tenants":[{{"name":"t","apiKeys":{keys}}}]}}"#);
            let e = Fixture::from_json(&json).unwrap_err();
            assert!(matches!(e, FixtureError::Invalid(_)), "{keys}: {e:?}");
            assert!(!e.to_string().contains("secret-k"), "{keys}: {e}");
            assert!(e.to_string().contains("apiKeys"), "{keys}: {e}");
        }
        let f = Fixture::from_json(r#"{"tenants":[{"name":"t","apiKeys":["k1","k2"]}]}"#).unwrap();
        assert_eq!(
            f.tenants[0].keys,
            vec![KeyDigest::of("k1"), KeyDigest::of("k2")]
        );
        let f = Fixture::from_json(r#"{"tenants":[{"name":"t"}]}"#).unwrap();
        assert!(f.tenants[0].keys.is_empty());
    }

    #[test]
    fn bad_values_are_refused() {
        let cases = [
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33", "color": "red"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok"}"#,
            r#"{"id": 0, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33"}"#,
            r#"{"id": 1, "reference": "", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "OK", "createdOn": "2024-04-05T08:44:33"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33Z"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33.5"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33", "modifiedOn": "2024-04-05T08:44:32"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33", "numLinks": -1}"#,
            r#"{"id": 1, "reference": "a\u0001", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33"}"#,
            r#"{"id": 1, "reference": "a", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33", "tags": null}"#,
        ];
        for case in cases {
            let json = format!(r#"{{"tenants":[{{"name":"t","images":[{case}]}}]}}"#);
            assert!(Fixture::from_json(&json).is_err(), "{case}");
        }
        assert!(Fixture::from_json("not json").is_err());
        let long = "x".repeat(256);
        assert!(fixture(&[tenant("a", &[], &[image(1, &long)])]).is_err());
        let ok = "é".repeat(255);
        assert!(fixture(&[tenant("a", &[], &[image(1, &ok)])]).is_ok());
    }
}
