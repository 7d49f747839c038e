//! Words of `$filter` (contract §5, §8): names, string, integer and datetime literals, and the
//! punctuation `( ) , : /`. The whole value is cut into tokens before the grammar runs, so a
//! bad word anywhere is reported before a misplaced one (as the reference model does).
//!
//! ```text
//! token     = punct / string / number / name          ; separated by spaces (U+0020 only)
//! punct     = "(" / ")" / "," / ":" / "/"
//! string    = "'" *( any char except "'" / "''" ) "'"
//! number    = datetime / integer                      ; a datetime is tried first
//! datetime  = date [ "T" time ]
//! date      = 4DIGIT "-" 2DIGIT "-" 2DIGIT
//! time      = 2DIGIT ":" 2DIGIT [ ":" 2DIGIT [ "." 1*9DIGIT ] ] [ zone ]
//! zone      = "Z" / ( "+" / "-" ) 2DIGIT ":" 2DIGIT
//! integer   = [ "-" ] 1*DIGIT
//! name      = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )
//! ```
//! A word (string, number, name) must be followed by a space, punctuation or the end.

use std::borrow::Cow;

use super::calendar::{days_from_civil, days_in_month, DAY};
use super::MAX_STRING_BYTES;
use crate::query::model::Instant;

/// One token; `start` is a byte offset into the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub start: usize,
    /// The token as written.
    pub text: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind<'a> {
    Open,
    Close,
    Comma,
    Colon,
    Slash,
    Name,
    /// The value, `''` unescaped.
    String(Cow<'a, str>),
    Integer(i64),
    DateTime(Instant),
    /// After the last token; `start` is the value's length.
    End,
}

/// Why the value could not be cut into tokens. Offsets are bytes from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LexError {
    UnexpectedCharacter {
        at: usize,
        character: char,
    },
    MissingSeparator {
        at: usize,
        word: usize,
        character: char,
    },
    UnterminatedString {
        at: usize,
    },
    StringTooLong {
        at: usize,
        bytes: usize,
    },
    IntegerOutOfRange {
        at: usize,
        end: usize,
    },
    InvalidDateTime {
        at: usize,
        end: usize,
        reason: &'static str,
    },
}

/// Cuts `src` into tokens, ending with [`TokenKind::End`].
///
/// Byte by byte: every byte that starts or ends a token is ASCII, so only the error paths
/// decode a character.
pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = src.as_bytes();
    // Room for two tokens every three bytes, as in `1, 2, 3` (`(((` has more, and grows).
    let mut tokens = Vec::with_capacity(src.len() * 2 / 3 + 2);
    let mut at = 0;
    loop {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        let start = at;
        let Some(&first) = bytes.get(start) else {
            tokens.push(Token {
                kind: TokenKind::End,
                start,
                text: "",
            });
            return Ok(tokens);
        };
        let (end, kind) = match first {
            b'(' => (start + 1, TokenKind::Open),
            b')' => (start + 1, TokenKind::Close),
            b',' => (start + 1, TokenKind::Comma),
            b':' => (start + 1, TokenKind::Colon),
            b'/' => (start + 1, TokenKind::Slash),
            _ => {
                let (end, kind) = word(src, start, first)?;
                if let Some(&next) = bytes.get(end) {
                    if !ends_word(next) {
                        return Err(LexError::MissingSeparator {
                            at: end,
                            word: start,
                            character: char_at(src, end),
                        });
                    }
                }
                (end, kind)
            }
        };
        tokens.push(Token {
            kind,
            start,
            text: src.get(start..end).unwrap_or_default(),
        });
        at = end;
    }
}

/// The character starting at byte `at` (a character boundary), for error messages.
fn char_at(src: &str, at: usize) -> char {
    src.get(at..).and_then(|s| s.chars().next()).unwrap_or(' ')
}

/// What may touch the end of a word.
fn ends_word(b: u8) -> bool {
    matches!(b, b' ' | b'(' | b')' | b',' | b':' | b'/')
}

/// word = string / number / name, starting at byte `start` with `first`: its end and kind.
///
/// The first byte tells which rule can apply, so only that one is tried.
fn word(src: &str, start: usize, first: u8) -> Result<(usize, TokenKind<'_>), LexError> {
    match first {
        b'\'' => string(src, start),
        b'0'..=b'9' | b'-' => number(src, start),
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
            Ok((name_end(src.as_bytes(), start + 1), TokenKind::Name))
        }
        _ => Err(LexError::UnexpectedCharacter {
            at: start,
            character: char_at(src, start),
        }),
    }
}

/// string = "'" *( any char except "'" / "''" ) "'"
///
/// The value is borrowed from `src` unless it holds a `''`.
fn string(src: &str, start: usize) -> Result<(usize, TokenKind<'_>), LexError> {
    let bytes = src.as_bytes();
    let mut value: Cow<'_, str> = Cow::Borrowed("");
    let mut from = start + 1;
    let end = loop {
        let quote = bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\''))
            .map(|i| from + i)
            .ok_or(LexError::UnterminatedString { at: start })?;
        let chunk = src.get(from..quote).unwrap_or_default();
        if value.is_empty() {
            value = Cow::Borrowed(chunk);
        } else {
            value.to_mut().push_str(chunk);
        }
        // A quote: either an escaped one or the closing one.
        if bytes.get(quote + 1) == Some(&b'\'') {
            value.to_mut().push('\'');
            from = quote + 2;
        } else {
            break quote + 1;
        }
    };
    if value.len() > MAX_STRING_BYTES {
        return Err(LexError::StringTooLong {
            at: start,
            bytes: value.len(),
        });
    }
    Ok((end, TokenKind::String(value)))
}

/// number = datetime / integer
fn number(src: &str, start: usize) -> Result<(usize, TokenKind<'_>), LexError> {
    match datetime(src.as_bytes(), start) {
        Some((end, parts)) => match instant(&parts) {
            Ok(instant) => Ok((end, TokenKind::DateTime(instant))),
            Err(reason) => Err(LexError::InvalidDateTime {
                at: start,
                end,
                reason,
            }),
        },
        None => integer(src, start),
    }
}

/// integer = [ "-" ] 1*DIGIT
fn integer(src: &str, start: usize) -> Result<(usize, TokenKind<'_>), LexError> {
    let bytes = src.as_bytes();
    let digits = if bytes.get(start) == Some(&b'-') {
        start + 1
    } else {
        start
    };
    let mut end = digits;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if end == digits {
        return Err(LexError::UnexpectedCharacter {
            at: start,
            character: char_at(src, start),
        });
    }
    // Accumulated towards the sign, so that i64::MIN fits.
    let negative = digits > start;
    let value = bytes
        .get(digits..end)
        .unwrap_or_default()
        .iter()
        .try_fold(0i64, |v, b| {
            let d = i64::from(b - b'0');
            let v = v.checked_mul(10)?;
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
    match value {
        Some(value) => Ok((end, TokenKind::Integer(value))),
        None => Err(LexError::IntegerOutOfRange { at: start, end }),
    }
}

/// The bytes that may follow a name's first: ALPHA / DIGIT / "_".
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

/// name = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" ), after its first byte: where it ends.
fn name_end(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&b| !NAME_BYTES[usize::from(b)])
        .unwrap_or(rest.len())
}

/// The parts of a datetime literal, read but not checked.
struct DateTimeParts {
    year: u32,
    month: u32,
    day: u32,
    time: Option<TimeParts>,
}

struct TimeParts {
    hour: u32,
    minute: u32,
    /// The second and its fraction (value and number of digits).
    second: Option<(u32, Option<(u32, u32)>)>,
    zone: Option<Zone>,
}

enum Zone {
    Utc,
    /// East of UTC (`+`) or west (`-`), hours, minutes.
    Offset(bool, u32, u32),
}

/// The number written with the `n` ASCII digits at `at`, if they are digits.
fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = bytes.get(at..at + n)?;
    digits.iter().try_fold(0u32, |v, b| {
        b.is_ascii_digit()
            .then(|| v * 10 + u32::from(b.wrapping_sub(b'0')))
    })
}

/// `hh:mm` at `at`.
fn hours_minutes(bytes: &[u8], at: usize) -> Option<(u32, u32)> {
    let hours = digits(bytes, at, 2)?;
    (bytes.get(at + 2) == Some(&b':')).then_some(())?;
    Some((hours, digits(bytes, at + 3, 2)?))
}

/// datetime = date [ "T" time ], at `start`: where it ends and its parts, or `None` when no
/// date starts there. Every optional part is taken only when it is complete (else the
/// datetime ends before it, and the separator check reports what follows).
fn datetime(bytes: &[u8], start: usize) -> Option<(usize, DateTimeParts)> {
    // date = 4DIGIT "-" 2DIGIT "-" 2DIGIT
    let year = digits(bytes, start, 4)?;
    (bytes.get(start + 4) == Some(&b'-')).then_some(())?;
    let month = digits(bytes, start + 5, 2)?;
    (bytes.get(start + 7) == Some(&b'-')).then_some(())?;
    let day = digits(bytes, start + 8, 2)?;
    let mut end = start + 10;
    let mut parts = DateTimeParts {
        year,
        month,
        day,
        time: None,
    };
    // time = 2DIGIT ":" 2DIGIT [ ":" 2DIGIT [ "." 1*9DIGIT ] ] [ zone ]
    if bytes.get(end) != Some(&b'T') {
        return Some((end, parts));
    }
    let Some((hour, minute)) = hours_minutes(bytes, end + 1) else {
        return Some((end, parts));
    };
    end += 6;
    let mut time = TimeParts {
        hour,
        minute,
        second: None,
        zone: None,
    };
    if bytes.get(end) == Some(&b':') {
        if let Some(second) = digits(bytes, end + 1, 2) {
            end += 3;
            let mut fraction = None;
            if bytes.get(end) == Some(&b'.') {
                let mut n = 0;
                let mut value = 0u32;
                while n < 9 {
                    match bytes.get(end + 1 + n) {
                        Some(b) if b.is_ascii_digit() => {
                            value = value * 10 + u32::from(b - b'0');
                            n += 1;
                        }
                        _ => break,
                    }
                }
                if n > 0 {
                    end += 1 + n;
                    fraction = Some((value, n as u32));
                }
            }
            time.second = Some((second, fraction));
        }
    }
    // zone = "Z" / ( "+" / "-" ) 2DIGIT ":" 2DIGIT
    match bytes.get(end) {
        Some(b'Z') => {
            end += 1;
            time.zone = Some(Zone::Utc);
        }
        Some(&sign @ (b'+' | b'-')) => {
            if let Some((h, m)) = hours_minutes(bytes, end + 1) {
                end += 6;
                time.zone = Some(Zone::Offset(sign == b'+', h, m));
            }
        }
        _ => {}
    }
    parts.time = Some(time);
    Some((end, parts))
}

/// The instant of a datetime literal, or why it names none.
fn instant(parts: &DateTimeParts) -> Result<Instant, &'static str> {
    let (year, month, day) = (i64::from(parts.year), parts.month, parts.day);
    if year < 1 {
        return Err("the year must be 0001 to 9999");
    }
    if !(1..=12).contains(&month) {
        return Err("the month must be 01 to 12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("the day does not exist in that month");
    }
    let mut seconds = days_from_civil(year, month, day) * DAY;
    let mut nanos = 0;
    if let Some(time) = &parts.time {
        let (hour, minute) = (time.hour, time.minute);
        if hour > 23 {
            return Err("the hour must be 00 to 23");
        }
        if minute > 59 {
            return Err("the minute must be 00 to 59");
        }
        seconds += i64::from(hour * 3600 + minute * 60);
        if let Some((second, fraction)) = time.second {
            if second > 59 {
                return Err("the second must be 00 to 59");
            }
            seconds += i64::from(second);
            if let Some((value, digits)) = fraction {
                nanos = value * 10u32.pow(9 - digits);
            }
        }
        if let Some(Zone::Offset(east, h, m)) = time.zone {
            if h > 23 || m > 59 {
                return Err("the zone offset must be -23:59 to +23:59");
            }
            let offset = i64::from(h * 3600 + m * 60);
            seconds -= if east { offset } else { -offset };
        }
    }
    Ok(Instant { seconds, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind<'_>> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_and_punctuation() {
        use TokenKind::*;
        assert_eq!(
            kinds("tags/any(t:t eq 'a''b')"),
            vec![
                Name,
                Slash,
                Name,
                Open,
                Name,
                Colon,
                Name,
                Name,
                String(Cow::Owned("a'b".into())),
                Close,
                End
            ]
        );
        assert_eq!(kinds("-007 0"), vec![Integer(-7), Integer(0), End]);
        assert_eq!(kinds("''"), vec![String(Cow::Borrowed("")), End]);
        assert_eq!(kinds("''''"), vec![String(Cow::Borrowed("'")), End]);
    }

    #[test]
    fn datetimes_are_exact() {
        let dt = |s| match &kinds(s)[0] {
            TokenKind::DateTime(i) => *i,
            other => panic!("{other:?}"),
        };
        assert_eq!(dt("1970-01-01"), Instant::from_seconds(0));
        assert_eq!(dt("1970-01-01T00:01"), Instant::from_seconds(60));
        assert_eq!(
            dt("1970-01-01T00:00:01.5"),
            Instant {
                seconds: 1,
                nanos: 500_000_000
            }
        );
        assert_eq!(
            dt("1970-01-01T00:00:00.000000001Z"),
            Instant {
                seconds: 0,
                nanos: 1
            }
        );
        assert_eq!(dt("1970-01-01T01:00+01:00"), Instant::from_seconds(0));
        assert_eq!(dt("1969-12-31T23:30-00:30"), Instant::from_seconds(0));
    }

    #[test]
    fn errors_carry_byte_offsets() {
        assert_eq!(
            tokenize("a\tb"),
            Err(LexError::MissingSeparator {
                at: 1,
                word: 0,
                character: '\t'
            })
        );
        assert_eq!(
            tokenize("a \tb"),
            Err(LexError::UnexpectedCharacter {
                at: 2,
                character: '\t'
            })
        );
        assert_eq!(
            tokenize("x 'ab"),
            Err(LexError::UnterminatedString { at: 2 })
        );
        assert_eq!(
            tokenize("x 2024-02-30"),
            Err(LexError::InvalidDateTime {
                at: 2,
                end: 12,
                reason: "the day does not exist in that month"
            })
        );
        assert_eq!(
            tokenize("9223372036854775808"),
            Err(LexError::IntegerOutOfRange { at: 0, end: 19 })
        );
    }
}
