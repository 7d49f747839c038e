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

use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::{char, one_of};
use nom::combinator::{map, opt};
use nom::error::{ErrorKind, ParseError};
use nom::sequence::preceded;
use nom::{IResult, Parser};

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

/// nom's error for the datetime rules: which failure, and how much input was left where it
/// happened (offsets are computed once the whole value is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WordError {
    left: usize,
    kind: WordErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WordErrorKind {
    /// A rule did not match (nom backtracks over it).
    NoMatch,
    Invalid {
        len: usize,
        reason: &'static str,
    },
}

impl ParseError<&str> for WordError {
    fn from_error_kind(input: &str, _: ErrorKind) -> Self {
        WordError {
            left: input.len(),
            kind: WordErrorKind::NoMatch,
        }
    }

    fn append(_: &str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type WordResult<'a, T> = IResult<&'a str, T, WordError>;

/// Cuts `src` into tokens, ending with [`TokenKind::End`].
///
/// Byte by byte: every byte that starts or ends a token is ASCII, so only the error paths
/// decode a character. Only a datetime goes through nom's rules ([`datetime`]).
pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::with_capacity(src.len() / 4 + 2);
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

fn word_error(src: &str, e: WordError) -> LexError {
    let at = src.len().saturating_sub(e.left);
    match e.kind {
        WordErrorKind::NoMatch => LexError::UnexpectedCharacter {
            at,
            character: char_at(src, at),
        },
        WordErrorKind::Invalid { len, reason } => LexError::InvalidDateTime {
            at,
            end: at + len,
            reason,
        },
    }
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
    let bytes = src.as_bytes();
    // A datetime starts with 4 digits and a '-'; nothing else needs its rules.
    let may_be_date = bytes
        .get(start..start + 5)
        .is_some_and(|b| b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-');
    if may_be_date {
        let input = src.get(start..).unwrap_or_default();
        match datetime(input) {
            Ok((rest, kind)) => return Ok((src.len() - rest.len(), kind)),
            Err(nom::Err::Failure(e)) => return Err(word_error(src, e)),
            // Not a datetime after all: an integer (followed by the '-').
            Err(_) => {}
        }
    }
    integer(src, start)
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
    match src.get(start..end).map(str::parse::<i64>) {
        Some(Ok(value)) => Ok((end, TokenKind::Integer(value))),
        _ => Err(LexError::IntegerOutOfRange { at: start, end }),
    }
}

/// name = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" ), after its first byte: where it ends.
fn name_end(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        at += 1;
    }
    at
}

/// The parts of a datetime literal, still unchecked.
struct DateTimeParts<'a> {
    date: (&'a str, &'a str, &'a str),
    time: Option<TimeParts<'a>>,
}

struct TimeParts<'a> {
    hour: &'a str,
    minute: &'a str,
    second: Option<(&'a str, Option<&'a str>)>,
    zone: Option<Zone<'a>>,
}

enum Zone<'a> {
    Utc,
    Offset(char, &'a str, &'a str),
}

fn digits(n: usize) -> impl FnMut(&str) -> WordResult<'_, &str> {
    move |input| take_while_m_n(n, n, |c: char| c.is_ascii_digit()).parse(input)
}

/// datetime = date [ "T" time ]
fn datetime(input: &str) -> WordResult<'_, TokenKind<'_>> {
    let (rest, parts) = map((date, opt(preceded(char('T'), time))), |(date, time)| {
        DateTimeParts { date, time }
    })
    .parse(input)?;
    let len = input.len() - rest.len();
    match instant(&parts) {
        Ok(instant) => Ok((rest, TokenKind::DateTime(instant))),
        Err(reason) => Err(nom::Err::Failure(WordError {
            left: input.len(),
            kind: WordErrorKind::Invalid { len, reason },
        })),
    }
}

/// date = 4DIGIT "-" 2DIGIT "-" 2DIGIT
fn date(input: &str) -> WordResult<'_, (&str, &str, &str)> {
    map(
        (digits(4), char('-'), digits(2), char('-'), digits(2)),
        |(y, _, m, _, d)| (y, m, d),
    )
    .parse(input)
}

/// time = 2DIGIT ":" 2DIGIT [ ":" 2DIGIT [ "." 1*9DIGIT ] ] [ zone ]
fn time(input: &str) -> WordResult<'_, TimeParts<'_>> {
    map(
        (digits(2), char(':'), digits(2), opt(seconds), opt(zone)),
        |(hour, _, minute, second, zone)| TimeParts {
            hour,
            minute,
            second,
            zone,
        },
    )
    .parse(input)
}

/// ":" 2DIGIT [ "." 1*9DIGIT ]
fn seconds(input: &str) -> WordResult<'_, (&str, Option<&str>)> {
    preceded(char(':'), (digits(2), opt(fraction))).parse(input)
}

/// "." 1*9DIGIT
fn fraction(input: &str) -> WordResult<'_, &str> {
    preceded(
        char('.'),
        take_while_m_n(1, 9, |c: char| c.is_ascii_digit()),
    )
    .parse(input)
}

/// zone = "Z" / ( "+" / "-" ) 2DIGIT ":" 2DIGIT
fn zone(input: &str) -> WordResult<'_, Zone<'_>> {
    alt((
        map(char('Z'), |_| Zone::Utc),
        map(
            (one_of("+-"), digits(2), char(':'), digits(2)),
            |(sign, h, _, m)| Zone::Offset(sign, h, m),
        ),
    ))
    .parse(input)
}

/// A number of 1–4 ASCII digits (the lexer matched them).
fn num(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0u32, |n, b| n * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// The instant of a datetime literal, or why it names none.
fn instant(parts: &DateTimeParts<'_>) -> Result<Instant, &'static str> {
    let (year, month, day) = (
        i64::from(num(parts.date.0)),
        num(parts.date.1),
        num(parts.date.2),
    );
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
        let (hour, minute) = (num(time.hour), num(time.minute));
        if hour > 23 {
            return Err("the hour must be 00 to 23");
        }
        if minute > 59 {
            return Err("the minute must be 00 to 59");
        }
        seconds += i64::from(hour * 3600 + minute * 60);
        if let Some((second, fraction)) = time.second {
            let second = num(second);
            if second > 59 {
                return Err("the second must be 00 to 59");
            }
            seconds += i64::from(second);
            if let Some(fraction) = fraction {
                let scale = 10u32.pow(9 - fraction.len() as u32);
                nanos = fraction
                    .bytes()
                    .fold(0u32, |n, b| n * 10 + u32::from(b.wrapping_sub(b'0')))
                    * scale;
            }
        }
        if let Some(Zone::Offset(sign, h, m)) = &time.zone {
            let (h, m) = (num(h), num(m));
            if h > 23 || m > 59 {
                return Err("the zone offset must be -23:59 to +23:59");
            }
            let offset = i64::from(h * 3600 + m * 60);
            seconds -= if *sign == '+' { offset } else { -offset };
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
