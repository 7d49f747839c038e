//! A path prefix under which the API is served or seen by its clients (§9.5).

use std::fmt;
use std::str::FromStr;

/// The longest base path accepted, in bytes.
pub const MAX_BASE_PATH_BYTES: usize = 256;

/// A path prefix such as `/dam/v2`: `/` followed by segments of letters, digits and
/// `-` `.` `_` `~`, separated by single `/`, without a trailing `/`; or the root (empty).
///
/// ```
/// use dam_axum::BasePath;
/// assert_eq!(BasePath::parse("/dam/v2").unwrap().as_str(), "/dam/v2");
/// assert!(BasePath::root().is_root());
/// assert!(BasePath::parse("dam").is_err());
/// assert!(BasePath::parse("/dam/").is_err());
/// assert!(BasePath::parse("/dam?x=1").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BasePath(String);

/// Why a text is not a [`BasePath`]. The message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BasePathError {
    /// The text does not start with `/`.
    #[error("a base path starts with '/' (e.g. /dam/v2)")]
    NoLeadingSlash,
    /// The text is `/` or ends with `/`.
    #[error("a base path does not end with '/' (e.g. /dam/v2; leave it out to serve at the root)")]
    TrailingSlash,
    /// The text holds `?` or `#`.
    #[error("a base path holds no query ('?') or fragment ('#')")]
    QueryOrFragment,
    /// Two `/` in a row, or a `.` or `..` segment.
    #[error("a base path has no empty, '.' or '..' segment")]
    BadSegment,
    /// A character outside letters, digits, `-`, `.`, `_`, `~` and `/`.
    #[error("a base path holds only letters, digits, '-', '.', '_', '~' and '/' (found {found:?} at byte {position})")]
    Character {
        /// The character.
        found: char,
        /// Its byte offset.
        position: usize,
    },
    /// Longer than [`MAX_BASE_PATH_BYTES`].
    #[error("a base path is at most 256 bytes long")]
    TooLong,
}

impl BasePath {
    /// The root: no prefix.
    pub fn root() -> Self {
        BasePath(String::new())
    }

    /// Checks a prefix; see [`BasePath`] for the rules.
    ///
    /// Errors: [`BasePathError`], naming the first rule broken.
    pub fn parse(text: &str) -> Result<Self, BasePathError> {
        if text.len() > MAX_BASE_PATH_BYTES {
            return Err(BasePathError::TooLong);
        }
        if !text.starts_with('/') {
            return Err(BasePathError::NoLeadingSlash);
        }
        if text.contains(['?', '#']) {
            return Err(BasePathError::QueryOrFragment);
        }
        if text.ends_with('/') {
            return Err(BasePathError::TrailingSlash);
        }
        if let Some((position, found)) = text
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c)))
        {
            return Err(BasePathError::Character { found, position });
        }
        if text[1..]
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        {
            return Err(BasePathError::BadSegment);
        }
        Ok(BasePath(text.to_string()))
    }

    /// The prefix (`""` for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// `path` under this prefix.
    pub(crate) fn join(&self, path: &str) -> String {
        let mut joined = String::with_capacity(self.0.len() + path.len());
        joined.push_str(&self.0);
        joined.push_str(path);
        joined
    }
}

impl FromStr for BasePath {
    type Err = BasePathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        BasePath::parse(text)
    }
}

impl fmt::Display for BasePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_prefixes_are_kept_as_given() {
        for text in ["/dam", "/dam/v2", "/a-b.c_d~e/9", "/..a/b..", "/API"] {
            assert_eq!(BasePath::parse(text).unwrap().as_str(), text);
        }
        let longest = format!("/{}", "a".repeat(MAX_BASE_PATH_BYTES - 1));
        assert!(BasePath::parse(&longest).is_ok());
    }

    #[test]
    fn each_rule_has_its_error() {
        use BasePathError::*;
        for (text, error) in [
            ("", NoLeadingSlash),
            ("dam/v2", NoLeadingSlash),
            ("/", TrailingSlash),
            ("/dam/", TrailingSlash),
            ("/dam?x=1", QueryOrFragment),
            ("/dam#top", QueryOrFragment),
            ("//dam", BadSegment),
            ("/dam//v2", BadSegment),
            ("/dam/../etc", BadSegment),
            ("/./dam", BadSegment),
        ] {
            assert_eq!(BasePath::parse(text), Err(error), "{text:?}");
        }
        for (text, found, position) in [
            ("/da m", ' ', 3),
            ("/dam/{id}", '{', 5),
            ("/dam/%41", '%', 5),
            ("/dam/*rest", '*', 5),
            ("/dám", 'á', 2),
        ] {
            assert_eq!(
                BasePath::parse(text),
                Err(BasePathError::Character { found, position }),
                "{text:?}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_BASE_PATH_BYTES));
        assert_eq!(BasePath::parse(&long), Err(BasePathError::TooLong));
    }
}
