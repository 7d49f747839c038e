//! Reading a Prometheus text-format scrape in a test, to assert which metrics exist, with which
//! labels — and that no label value holds what §9.2 keeps out (keys, digests, tenants, query
//! strings, ids).
//!
//! ```
//! use dam_store_tests::scrape::Scrape;
//!
//! let scrape = Scrape::parse(
//!     "# TYPE http_server_active_requests gauge\n\
//!      http_server_active_requests{http_request_method=\"GET\"} 0\n",
//! )
//! .unwrap();
//! let sample = &scrape.samples("http_server_active_requests")[0];
//! assert_eq!(sample.label("http_request_method"), Some("GET"));
//! assert_eq!(sample.value, 0.0);
//! ```

use std::collections::BTreeMap;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name (with its `_bucket`, `_sum`, `_count` suffix, if any).
    pub name: String,
    /// The labels, by name.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// A parsed scrape: its samples, and its `# TYPE` lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// Every sample, in order.
    pub samples: Vec<Sample>,
    /// The type of each metric family (`counter`, `gauge`, `histogram`, `summary`, …).
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the text format; the error names the first line that does not parse.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.split_whitespace();
                if words.next() == Some("TYPE") {
                    if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                        scrape.types.insert(name.to_owned(), kind.to_owned());
                    }
                }
                continue;
            }
            let sample = sample(line).ok_or_else(|| format!("not a sample line: {line:?}"))?;
            scrape.samples.push(sample);
        }
        Ok(scrape)
    }

    /// The samples named exactly `name`.
    pub fn samples(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// The value of the first sample named `name` that has every label of `labels`.
    ///
    /// ```
    /// use dam_store_tests::scrape::Scrape;
    /// let scrape = Scrape::parse("hits{store=\"a\",result=\"hit\"} 3\n").unwrap();
    /// assert_eq!(scrape.value("hits", &[("result", "hit")]), Some(3.0));
    /// assert_eq!(scrape.value("hits", &[("result", "miss")]), None);
    /// ```
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(label, value)| s.label(label) == Some(*value))
            })
            .map(|s| s.value)
    }

    /// Every label value of every sample, with its sample's name and the label's name.
    pub fn label_values(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.samples.iter().flat_map(|s| {
            s.labels
                .iter()
                .map(move |(k, v)| (s.name.as_str(), k.as_str(), v.as_str()))
        })
    }
}

fn sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = label_set(inner)?;
        labels = parsed;
        rest = after;
    }
    // A value, then an optional timestamp.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `l1="v1",l2="v2"}` → the labels and what follows the `}`.
fn label_set(mut text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        text = text.trim_start_matches(',');
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = text.find('=')?;
        let name = text[..eq].trim().to_owned();
        text = text[eq + 1..].strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = text.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(name, value);
        text = &text[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels_and_escapes() {
        let text = "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n\
                    h_bucket{a=\"q\\\"uote\",le=\"+Inf\"} 2 1700000000\nh_sum{a=\"b\\\\n\"} 0.5\n";
        let scrape = Scrape::parse(text).unwrap();
        assert_eq!(scrape.types["x_total"], "counter");
        assert_eq!(scrape.samples("x_total")[0].value, 3.0);
        let bucket = scrape.samples("h_bucket")[0];
        assert_eq!(bucket.label("a"), Some("q\"uote"));
        assert_eq!(bucket.label("le"), Some("+Inf"));
        assert_eq!(scrape.samples("h_sum")[0].label("a"), Some("b\\n"));
        assert_eq!(scrape.label_values().count(), 3);
    }

    #[test]
    fn a_broken_line_is_an_error() {
        assert!(Scrape::parse("x{a=\"unterminated} 1\n").is_err());
        assert!(Scrape::parse("x not-a-number\n").is_err());
    }
}
