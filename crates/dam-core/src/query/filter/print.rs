//! The canonical `$filter` text of a typed [`Filter`]: parsing it gives the same filter back,
//! and printing is idempotent. Parentheses are added only where precedence needs them, so the
//! text is never nested deeper than the filter itself requires.

use std::fmt::{self, Write};

use super::calendar::{civil_from_days, DAY};
use crate::query::model::{Filter, Instant, Value};

impl fmt::Display for Filter {
    /// ```
    /// use dam_core::query::parse_filter;
    /// let f = parse_filter("5 lt numLinks and (null eq originalUrl or tags/any(x:x eq 'it''s'))").unwrap();
    /// assert_eq!(
    ///     f.to_string(),
    ///     "numLinks gt 5 and (originalUrl eq null or tags/any(t: t eq 'it''s'))"
    /// );
    /// assert_eq!(parse_filter(&f.to_string()).unwrap(), f);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Or(..) | Filter::And(..) => write_chain(f, self),
            Filter::Not(inner) => {
                f.write_str("not ")?;
                parenthesized(
                    f,
                    inner,
                    matches!(**inner, Filter::Or(..) | Filter::And(..)),
                )
            }
            Filter::Compare { field, op, value } => {
                write!(f, "{field} {} ", op.keyword())?;
                write_value(f, value)
            }
            Filter::CompareFields { left, op, right } => {
                write!(f, "{left} {} {right}", op.keyword())
            }
            Filter::IsNull { field, negated } => {
                write!(f, "{field} {} null", if *negated { "ne" } else { "eq" })
            }
            Filter::In { field, values } => {
                write!(f, "{field} in (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_value(f, value)?;
                }
                f.write_char(')')
            }
            Filter::StringCall {
                function,
                field,
                needle,
            } => {
                write!(f, "{}({field}, ", function.name())?;
                write_string(f, needle)?;
                f.write_char(')')
            }
            Filter::Tags { quantifier, value } => {
                write!(f, "tags/{}(t: t eq ", quantifier.name())?;
                write_string(f, value)?;
                f.write_char(')')
            }
        }
    }
}

/// An `and`/`or` chain. Chains are left-deep (`a or b or c` is `(a or b) or c`), so the left
/// spine is walked in a loop rather than recursively: a long chain costs no stack.
fn write_chain(f: &mut fmt::Formatter<'_>, chain: &Filter) -> fmt::Result {
    let is_or = matches!(chain, Filter::Or(..));
    let mut rights = Vec::new();
    let mut leftmost = chain;
    while let (Filter::Or(a, b), true) | (Filter::And(a, b), false) = (leftmost, is_or) {
        rights.push(&**b);
        leftmost = a;
    }
    // An `or` inside an `and` needs parentheses; an `and` inside an `or` does not.
    parenthesized(f, leftmost, !is_or && matches!(leftmost, Filter::Or(..)))?;
    let keyword = if is_or { " or " } else { " and " };
    for right in rights.into_iter().rev() {
        f.write_str(keyword)?;
        // The same operator on the right needs parentheses (it is left-associative).
        let parens =
            matches!(right, Filter::Or(..)) || (!is_or && matches!(right, Filter::And(..)));
        parenthesized(f, right, parens)?;
    }
    Ok(())
}

fn parenthesized(f: &mut fmt::Formatter<'_>, filter: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Integer(i) => write!(f, "{i}"),
        Value::String(s) => write_string(f, s),
        Value::DateTime(t) => write_instant(f, *t),
        Value::Status(s) => write!(f, "'{}'", s.code()),
    }
}

/// A string literal: quoted, `'` doubled.
fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            f.write_str("''")?;
        }
        f.write_str(part)?;
    }
    f.write_char('\'')
}

/// The shortest datetime literal of an instant: `YYYY-MM-DD`, then `THH:MM`, `:SS` and a
/// fraction without trailing zeros only as needed, in UTC. An instant whose UTC date falls
/// outside the years 0001–9999 (reachable through a zone offset) is written with the offset
/// of its literal's extreme (`+23:59` or `-23:59`) so that it still reads back exactly.
fn write_instant(f: &mut fmt::Formatter<'_>, instant: Instant) -> fmt::Result {
    const MAX_OFFSET: i64 = 23 * 3600 + 59 * 60;
    let (mut seconds, mut zone) = (i128::from(instant.seconds), "");
    if year_of(seconds) < 1 {
        seconds += i128::from(MAX_OFFSET);
        zone = "+23:59";
    } else if year_of(seconds) > 9999 {
        seconds -= i128::from(MAX_OFFSET);
        zone = "-23:59";
    }
    let (year, month, day) = civil_from_days(days_of(seconds));
    let of_day = seconds.rem_euclid(i128::from(DAY));
    write!(f, "{year:04}-{month:02}-{day:02}")?;
    let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    let nanos = instant.nanos;
    if of_day == 0 && nanos == 0 && zone.is_empty() {
        return Ok(());
    }
    write!(f, "T{hour:02}:{minute:02}")?;
    if second != 0 || nanos != 0 {
        write!(f, ":{second:02}")?;
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
    }
    f.write_str(zone)
}

/// Whole days since the epoch of a second count that came from an `i64` (so it fits).
fn days_of(seconds: i128) -> i64 {
    i64::try_from(seconds.div_euclid(i128::from(DAY))).unwrap_or_default()
}

fn year_of(seconds: i128) -> i64 {
    civil_from_days(days_of(seconds)).0
}
