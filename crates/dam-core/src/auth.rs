//! API keys (contract §2). A key is only ever kept as its SHA-256 digest.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::DamError;

/// The longest well-formed key, in bytes.
pub const MAX_KEY_LEN: usize = 256;

/// A well-formed API key: 1–256 characters of visible ASCII (`!`..`~`).
///
/// Its `Debug` form hides the key, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Checks the `X-API-KEY` header value in the order of §2: missing, empty or only white
    /// space → [`DamError::MissingApiKey`] (401); longer than 256 characters or holding a
    /// character outside `!`..`~` → [`DamError::MalformedApiKey`] (400).
    ///
    /// ```
    /// use dam_core::{ApiKey, DamError};
    /// assert!(ApiKey::from_header(Some(b"acme-key-1")).is_ok());
    /// assert!(matches!(ApiKey::from_header(None), Err(DamError::MissingApiKey)));
    /// assert!(matches!(ApiKey::from_header(Some(b" \t ")), Err(DamError::MissingApiKey)));
    /// assert!(matches!(ApiKey::from_header(Some(b"a b")), Err(DamError::MalformedApiKey { .. })));
    /// ```
    pub fn from_header(value: Option<&[u8]>) -> Result<Self, DamError> {
        let Some(bytes) = value else {
            return Err(DamError::MissingApiKey);
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(DamError::MissingApiKey);
        }
        if bytes.len() > MAX_KEY_LEN {
            return Err(DamError::MalformedApiKey {
                reason: "it is longer than 256 characters",
            });
        }
        if !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
            return Err(DamError::MalformedApiKey {
                reason: "it holds a character outside visible ASCII",
            });
        }
        // All bytes are visible ASCII, so this is valid UTF-8.
        let text = String::from_utf8_lossy(bytes).into_owned();
        Ok(ApiKey(text))
    }

    /// The digest under which stores keep this key.
    pub fn digest(&self) -> KeyDigest {
        KeyDigest::of(&self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The SHA-256 digest of an API key: what stores keep and look up instead of the key.
///
/// Its `Debug` form is redacted too: contract §8 keeps even the digest out of logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// The digest of a key's text.
    pub fn of(key: &str) -> Self {
        KeyDigest(Sha256::digest(key.as_bytes()).into())
    }

    /// A digest from its 32 raw bytes (as read back from storage).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeyDigest(bytes)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters (for stores that keep text).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyDigest(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_limits_at_the_edge() {
        let ok = "k".repeat(256);
        assert!(ApiKey::from_header(Some(ok.as_bytes())).is_ok());
        let long = "k".repeat(257);
        assert!(matches!(
            ApiKey::from_header(Some(long.as_bytes())),
            Err(DamError::MalformedApiKey { .. })
        ));
        assert!(matches!(
            ApiKey::from_header(Some("clé".as_bytes())),
            Err(DamError::MalformedApiKey { .. })
        ));
        assert!(matches!(
            ApiKey::from_header(Some(b"")),
            Err(DamError::MissingApiKey)
        ));
        let visible: Vec<u8> = (b'!'..=b'~').collect();
        assert!(ApiKey::from_header(Some(&visible)).is_ok());
    }

    #[test]
    fn debug_forms_never_show_the_key() {
        let key = ApiKey::from_header(Some(b"secret-key-123")).unwrap();
        assert!(!format!("{key:?}").contains("secret"));
        assert!(!format!("{:?}", key.digest()).contains(&key.digest().to_hex()[..8]));
    }

    #[test]
    fn digest_is_sha256() {
        assert_eq!(
            KeyDigest::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
