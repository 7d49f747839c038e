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
use nom::bytes::complete::{tag, take_while, take_while_m_n};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::{map, opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::sequence::{preceded, terminated};
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

/// nom's error for the word rules: which failure, and how much input was left where it
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
    Unterminated,
    TooLong {
        bytes: usize,
    },
    OutOfRange {
        len: usize,
    },
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

fn failure<T>(input: &str, kind: WordErrorKind) -> WordResult<'_, T> {
    Err(nom::Err::Failure(WordError {
        left: input.len(),
        kind,
    }))
}

/// Cuts `src` into tokens, ending with [`TokenKind::End`].
pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut tokens = Vec::with_capacity(src.len() / 4 + 2);
    let mut rest = src;
    loop {
        rest = rest.trim_start_matches(' ');
        let start = src.len() - rest.len();
        let Some(first) = rest.chars().next() else {
            tokens.push(Token {
                kind: TokenKind::End,
                start,
                text: "",
            });
            return Ok(tokens);
        };
        let (after, kind) = match token(rest) {
            Ok(ok) => ok,
            Err(nom::Err::Error(_)) | Err(nom::Err::Incomplete(_)) => {
                return Err(LexError::UnexpectedCharacter {
                    at: start,
                    character: first,
                })
            }
            Err(nom::Err::Failure(e)) => return Err(word_error(src, start, e)),
        };
        let end = src.len() - after.len();
        let text = &rest[..end - start];
        let is_word = !matches!(
            kind,
            TokenKind::Open
                | TokenKind::Close
                | TokenKind::Comma
                | TokenKind::Colon
                | TokenKind::Slash
        );
        if is_word {
            if let Some(character) = after.chars().next().filter(|c| !ends_word(*c)) {
                return Err(LexError::MissingSeparator {
                    at: end,
                    word: start,
                    character,
                });
            }
        }
        tokens.push(Token { kind, start, text });
        rest = after;
    }
}

fn word_error(src: &str, start: usize, e: WordError) -> LexError {
    let at = src.len().saturating_sub(e.left);
    match e.kind {
        WordErrorKind::NoMatch => LexError::UnexpectedCharacter {
            at,
            character: src.get(at..).and_then(|s| s.chars().next()).unwrap_or(' '),
        },
        WordErrorKind::Unterminated => LexError::UnterminatedString { at: start },
        WordErrorKind::TooLong { bytes } => LexError::StringTooLong { at: start, bytes },
        WordErrorKind::OutOfRange { len } => LexError::IntegerOutOfRange {
            at: start,
            end: start + len,
        },
        WordErrorKind::Invalid { len, reason } => LexError::InvalidDateTime {
            at: start,
            end: start + len,
            reason,
        },
    }
}

/// What may touch the end of a word.
fn ends_word(c: char) -> bool {
    matches!(c, ' ' | '(' | ')' | ',' | ':' | '/')
}

/// token = punct / string / number / name
///
/// The first character tells which rule can apply, so only that one is tried.
fn token(input: &str) -> WordResult<'_, TokenKind<'_>> {
    match input.as_bytes().first() {
        Some(b'(' | b')' | b',' | b':' | b'/') => punct(input),
        Some(b'\'') => string(input),
        Some(b'0'..=b'9' | b'-') => number(input),
        _ => name(input),
    }
}

/// punct = "(" / ")" / "," / ":" / "/"
fn punct(input: &str) -> WordResult<'_, TokenKind<'_>> {
    map(one_of("(),:/"), |c| match c {
        '(' => TokenKind::Open,
        ')' => TokenKind::Close,
        ',' => TokenKind::Comma,
        ':' => TokenKind::Colon,
        _ => TokenKind::Slash,
    })
    .parse(input)
}

/// string = "'" *( any char except "'" / "''" ) "'"
fn string(input: &str) -> WordResult<'_, TokenKind<'_>> {
    let (body, _) = char('\'').parse(input)?;
    let mut value: Cow<'_, str> = Cow::Borrowed("");
    let mut rest = body;
    loop {
        let (after, chunk) = take_while(|c| c != '\'').parse(rest)?;
        if after.is_empty() {
            return failure(input, WordErrorKind::Unterminated);
        }
        if value.is_empty() {
            value = Cow::Borrowed(chunk);
        } else {
            value.to_mut().push_str(chunk);
        }
        // `after` starts with a quote: either an escaped one or the closing one.
        if let Ok((next, _)) = tag::<_, _, WordError>("''").parse(after) {
            value.to_mut().push('\'');
            rest = next;
        } else {
            (rest, _) = char('\'').parse(after)?;
            break;
        }
    }
    if value.len() > MAX_STRING_BYTES {
        return failure(input, WordErrorKind::TooLong { bytes: value.len() });
    }
    Ok((rest, TokenKind::String(value)))
}

/// number = datetime / integer
fn number(input: &str) -> WordResult<'_, TokenKind<'_>> {
    alt((datetime, integer)).parse(input)
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
        Err(reason) => failure(input, WordErrorKind::Invalid { len, reason }),
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

/// integer = [ "-" ] 1*DIGIT
fn integer(input: &str) -> WordResult<'_, TokenKind<'_>> {
    let (rest, text) = recognize(preceded(opt(char('-')), ascii_digits)).parse(input)?;
    match text.parse::<i64>() {
        Ok(value) => Ok((rest, TokenKind::Integer(value))),
        Err(_) => failure(input, WordErrorKind::OutOfRange { len: text.len() }),
    }
}

fn ascii_digits(input: &str) -> WordResult<'_, &str> {
    // `digit1` is ASCII-only for &str.
    digit1(input)
}

/// name = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" )
fn name(input: &str) -> WordResult<'_, TokenKind<'_>> {
    map(
        terminated(
            satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
        ),
        |_| TokenKind::Name,
    )
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
