//! The grammar of `$filter` (contract §5) over the lexer's tokens: one nom rule per grammar
//! rule, in the order of the grammar. Names and types are the [`Checker`]'s business: each
//! comparison, `in` and call goes to it as soon as it is read, and the rules build the typed
//! [`Filter`] from what it returns (no syntax tree in between). Its first error is kept and
//! reported only once the grammar holds for the whole value.
//!
//! Nesting and node limits are counted here, before recursing, so that no input can exhaust
//! the stack: one nesting level is a parenthesised group, a `not` or an `any`/`all` body; one
//! node is a comparison, `in`, call, lambda, `and`, `or` or `not`.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use nom::branch::alt;
use nom::combinator::map;
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};

use super::lexer::{Token, TokenKind};
use super::validate::Checker;
use super::{char_position, MAX_DEPTH, MAX_IN_ITEMS, MAX_NODES};
use crate::query::error::{shorten, QueryError};
use crate::query::model::{CmpOp, Filter, Instant, Quantifier, StringFunction};

/// What a rule built: the typed filter, or `None` once the [`Checker`] has refused something
/// (its error is in the [`Context`]; the rules go on for the grammar's sake).
type Built = Option<Filter>;

/// A name where a field is expected. Offsets are bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Name<'a> {
    pub text: &'a str,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Operand<'a> {
    Field(Name<'a>),
    Literal(Literal<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Literal<'a> {
    pub value: LiteralValue<'a>,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LiteralValue<'a> {
    String(Cow<'a, str>),
    Integer(i64),
    DateTime(Instant),
    Null,
}

impl LiteralValue<'_> {
    /// How a 400 names what was given.
    pub(super) fn describe(&self) -> &'static str {
        match self {
            LiteralValue::String(_) => "a string",
            LiteralValue::Integer(_) => "an integer",
            LiteralValue::DateTime(_) => "a datetime",
            LiteralValue::Null => "null",
        }
    }
}

/// Words that are never field names.
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "and" | "or" | "not" | "in" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "null"
    )
}

/// What the rules share: the value (to turn offsets into character positions), the nesting
/// and node counters, the checker and its first error.
pub(super) struct Context<'a> {
    src: &'a str,
    depth: Cell<usize>,
    nodes: Cell<usize>,
    checker: Checker<'a>,
    error: RefCell<Option<QueryError>>,
}

impl<'a> Context<'a> {
    /// The filter of a primary that `check` builds, unless an earlier one was refused (then
    /// nothing is checked any more) or this one is (then its error is kept).
    fn check(&self, check: impl FnOnce(&Checker<'a>) -> Result<Filter, QueryError>) -> Built {
        let mut error = self.error.borrow_mut();
        if error.is_some() {
            return None;
        }
        match check(&self.checker) {
            Ok(filter) => Some(filter),
            Err(e) => {
                *error = Some(e);
                None
            }
        }
    }
}

/// `make(a, b)` when both were built.
fn both(a: Built, b: Built, make: fn(Box<Filter>, Box<Filter>) -> Filter) -> Built {
    Some(make(Box::new(a?), Box::new(b?)))
}

/// The rules' input: the tokens not consumed yet, always ending with [`TokenKind::End`].
#[derive(Clone, Copy)]
pub(super) struct Tokens<'t, 'a> {
    rest: &'t [Token<'a>],
    cx: &'t Context<'a>,
}

/// nom's error for the rules: a rule that does not apply (nom may try another), or the 400.
#[derive(Debug)]
pub(super) enum GrammarError {
    NoMatch,
    Fail(Box<QueryError>),
}

impl<'t, 'a> ParseError<Tokens<'t, 'a>> for GrammarError {
    fn from_error_kind(_: Tokens<'t, 'a>, _: ErrorKind) -> Self {
        GrammarError::NoMatch
    }

    fn append(_: Tokens<'t, 'a>, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type Parsed<'t, 'a, T> = IResult<Tokens<'t, 'a>, T, GrammarError>;

static END: Token<'static> = Token {
    kind: TokenKind::End,
    start: 0,
    text: "",
};

impl<'t, 'a> Tokens<'t, 'a> {
    fn peek(&self) -> &'t Token<'a> {
        self.rest.first().unwrap_or(&END)
    }

    fn peek2(&self) -> &'t Token<'a> {
        self.rest.get(1).unwrap_or(&END)
    }

    /// Whether the next token is the keyword `word`.
    fn at_keyword(&self, word: &str) -> bool {
        let token = self.peek();
        token.kind == TokenKind::Name && token.text == word
    }

    /// The input after the next token (the `End` token is never consumed).
    fn advance(self) -> Self {
        match self.rest.split_first() {
            Some((first, rest)) if first.kind != TokenKind::End => Tokens { rest, ..self },
            _ => self,
        }
    }

    fn position(&self, token: &Token<'_>) -> usize {
        char_position(self.cx.src, token.start)
    }

    fn fail<T>(&self, error: QueryError) -> Parsed<'t, 'a, T> {
        Err(nom::Err::Failure(GrammarError::Fail(Box::new(error))))
    }

    /// A syntax error at the next token.
    fn expected<T>(&self, expected: impl Into<String>) -> Parsed<'t, 'a, T> {
        let token = self.peek();
        self.fail(QueryError::Syntax {
            position: self.position(token),
            expected: expected.into(),
            found: describe(token),
        })
    }

    /// One level deeper, refused past the limit before anything is parsed inside it.
    fn enter(&self) -> Result<(), nom::Err<GrammarError>> {
        let depth = self.cx.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(nom::Err::Failure(GrammarError::Fail(Box::new(
                QueryError::TooDeep {
                    position: self.position(self.peek()),
                    limit: MAX_DEPTH,
                },
            ))));
        }
        self.cx.depth.set(depth);
        Ok(())
    }

    fn leave(&self) {
        self.cx.depth.set(self.cx.depth.get().saturating_sub(1));
    }

    /// One more node, refused past the limit.
    fn count(&self) -> Result<(), nom::Err<GrammarError>> {
        let nodes = self.cx.nodes.get() + 1;
        if nodes > MAX_NODES {
            return Err(nom::Err::Failure(GrammarError::Fail(Box::new(
                QueryError::TooManyNodes {
                    position: self.position(self.peek()),
                    limit: MAX_NODES,
                },
            ))));
        }
        self.cx.nodes.set(nodes);
        Ok(())
    }
}

/// How a 400 names a token.
fn describe(token: &Token<'_>) -> String {
    match token.kind {
        TokenKind::End => "the end of the filter".to_string(),
        TokenKind::String(_) => format!("the string {}", shorten(token.text)),
        _ => format!("'{}'", shorten(token.text)),
    }
}

/// Parses the tokens of `src` and checks names and types: the typed filter, or the first
/// error (of the grammar, else of names and types).
pub(super) fn parse<'a>(src: &'a str, tokens: &[Token<'a>]) -> Result<Filter, QueryError> {
    let cx = Context {
        src,
        depth: Cell::new(0),
        nodes: Cell::new(0),
        checker: Checker::new(src),
        error: RefCell::new(None),
    };
    let input = Tokens {
        rest: tokens,
        cx: &cx,
    };
    match filter(input) {
        Ok((_, built)) => match (cx.error.take(), built) {
            (Some(e), _) => Err(e),
            (None, Some(filter)) => Ok(filter),
            // Nothing is left unbuilt without an error.
            (None, None) => Err(QueryError::Syntax {
                position: 0,
                expected: "an expression".into(),
                found: describe(input.peek()),
            }),
        },
        Err(nom::Err::Failure(GrammarError::Fail(e)) | nom::Err::Error(GrammarError::Fail(e))) => {
            Err(*e)
        }
        // Every rule turns "no match" into a located error before it reaches the top.
        Err(_) => Err(QueryError::Syntax {
            position: 0,
            expected: "an expression".into(),
            found: describe(input.peek()),
        }),
    }
}

// ----- token rules ---------------------------------------------------------------------------

/// The next token, if `accept` takes it.
fn token_if<'t, 'a: 't>(
    accept: impl Fn(&Token<'a>) -> bool,
) -> impl Fn(Tokens<'t, 'a>) -> Parsed<'t, 'a, &'t Token<'a>> {
    move |input| {
        let token = input.peek();
        if accept(token) {
            Ok((input.advance(), token))
        } else {
            Err(nom::Err::Error(GrammarError::NoMatch))
        }
    }
}

fn punct<'t, 'a: 't>(
    kind: TokenKind<'static>,
) -> impl Fn(Tokens<'t, 'a>) -> Parsed<'t, 'a, &'t Token<'a>> {
    token_if(move |t| t.kind == kind)
}

fn keyword<'t, 'a: 't>(
    word: &'static str,
) -> impl Fn(Tokens<'t, 'a>) -> Parsed<'t, 'a, &'t Token<'a>> {
    token_if(move |t| t.kind == TokenKind::Name && t.text == word)
}

/// `rule`, or a syntax error at the next token naming what was expected.
fn expect<'t, 'a: 't, T>(
    expected: &'static str,
    mut rule: impl Parser<Tokens<'t, 'a>, Output = T, Error = GrammarError>,
) -> impl FnMut(Tokens<'t, 'a>) -> Parsed<'t, 'a, T> {
    move |input| match rule.parse(input) {
        Err(nom::Err::Error(GrammarError::NoMatch)) => input.expected(expected),
        other => other,
    }
}

// ----- grammar rules, top-down ---------------------------------------------------------------

/// filter = expr END
fn filter<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (rest, expr) = expr(input)?;
    if rest.peek().kind == TokenKind::End {
        Ok((rest, expr))
    } else {
        rest.expected("'and', 'or' or the end of the filter")
    }
}

/// expr = or
fn expr<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    or(input)
}

/// or = and *( "or" and )
fn or<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (mut input, mut left) = and(input)?;
    while input.at_keyword("or") {
        let (rest, right) = and(input.advance())?;
        rest.count()?;
        left = both(left, right, Filter::Or);
        input = rest;
    }
    Ok((input, left))
}

/// and = unary *( "and" unary )
fn and<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (mut input, mut left) = unary(input)?;
    while input.at_keyword("and") {
        let (rest, right) = unary(input.advance())?;
        rest.count()?;
        left = both(left, right, Filter::And);
        input = rest;
    }
    Ok((input, left))
}

/// unary = "not" unary / primary
fn unary<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    if !input.at_keyword("not") {
        return primary(input);
    }
    let rest = input.advance();
    rest.enter()?;
    let (rest, inner) = unary(rest)?;
    rest.leave();
    rest.count()?;
    Ok((rest, inner.map(|f| Filter::Not(Box::new(f)))))
}

/// primary = "(" expr ")" / comparison / in / call / any
fn primary<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (first, second) = (input.peek(), input.peek2());
    match (&first.kind, &second.kind) {
        (TokenKind::Open, _) => group(input),
        (TokenKind::Name, TokenKind::Open) if StringFunction::from_name(first.text).is_some() => {
            call(input)
        }
        (TokenKind::Name, TokenKind::Slash) if first.text == "tags" => any(input),
        _ => comparison_or_in(input),
    }
}

/// "(" expr ")"
fn group<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (rest, _) = punct(TokenKind::Open)(input)?;
    rest.enter()?;
    let (rest, inner) = expr(rest)?;
    let (rest, _) = expect("')'", punct(TokenKind::Close))(rest)?;
    rest.leave();
    Ok((rest, inner))
}

/// comparison = operand ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) operand
/// in         = field "in" "(" literal *( "," literal ) ")"
fn comparison_or_in<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (rest, left) = operand(input)?;
    let left_token = input.peek();
    if rest.at_keyword("in") {
        return match left {
            Operand::Field(field) => in_list(rest.advance(), field),
            Operand::Literal(_) => rest.expected(format!(
                "a field on the left of 'in', not the literal {}",
                shorten(left_token.text)
            )),
        };
    }
    let (rest, op) = match comparison_operator(rest) {
        Ok(ok) => ok,
        Err(nom::Err::Error(_)) => {
            return rest.expected(format!(
                "a comparison operator after '{}'",
                shorten(left_token.text)
            ))
        }
        Err(e) => return Err(e),
    };
    let (rest, right) = operand(rest)?;
    rest.count()?;
    Ok((rest, rest.cx.check(|c| c.comparison(&left, op, &right))))
}

/// "eq" / "ne" / "gt" / "ge" / "lt" / "le"
fn comparison_operator<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, CmpOp> {
    let token = input.peek();
    let op = match (&token.kind, token.text) {
        (TokenKind::Name, "eq") => CmpOp::Eq,
        (TokenKind::Name, "ne") => CmpOp::Ne,
        (TokenKind::Name, "gt") => CmpOp::Gt,
        (TokenKind::Name, "ge") => CmpOp::Ge,
        (TokenKind::Name, "lt") => CmpOp::Lt,
        (TokenKind::Name, "le") => CmpOp::Le,
        _ => return Err(nom::Err::Error(GrammarError::NoMatch)),
    };
    Ok((input.advance(), op))
}

/// "(" literal *( "," literal ) ")", after `field in`
fn in_list<'t, 'a: 't>(input: Tokens<'t, 'a>, field: Name<'a>) -> Parsed<'t, 'a, Built> {
    let (mut rest, _) = expect("'(' after 'in'", punct(TokenKind::Open))(input)?;
    if rest.peek().kind == TokenKind::Close {
        return rest.fail(QueryError::EmptyInList {
            position: rest.position(rest.peek()),
        });
    }
    // One allocation: room for every literal up to the first ')'.
    let commas = rest
        .rest
        .iter()
        .take_while(|t| !matches!(t.kind, TokenKind::Close | TokenKind::End))
        .filter(|t| t.kind == TokenKind::Comma)
        .count();
    let mut items = Vec::with_capacity(commas.min(MAX_IN_ITEMS) + 1);
    loop {
        let (after, item) = match literal(rest) {
            Ok(ok) => ok,
            Err(_) => return rest.expected("a literal in the 'in' list"),
        };
        items.push(item);
        if after.peek().kind == TokenKind::Comma {
            rest = after.advance();
        } else {
            rest = after;
            break;
        }
    }
    let (rest, _) = expect("',' or ')' closing the 'in' list", punct(TokenKind::Close))(rest)?;
    if items.len() > MAX_IN_ITEMS {
        return rest.fail(QueryError::InListTooLong {
            field: shorten(field.text),
            position: char_position(rest.cx.src, field.at),
            items: items.len(),
            limit: MAX_IN_ITEMS,
        });
    }
    rest.count()?;
    Ok((rest, rest.cx.check(|c| c.in_list(&field, &items))))
}

/// call = ( "contains" / "startswith" / "endswith" ) "(" field "," string ")"
///
/// The second argument may be any operand here; the validator asks for a string.
fn call<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (rest, name) = token_if(|t| t.kind == TokenKind::Name)(input)?;
    let Some(function) = StringFunction::from_name(name.text) else {
        return input.expected("a function name");
    };
    let (rest, _) = punct(TokenKind::Open)(rest)?;
    let (after, first) = operand(rest)?;
    let field = match first {
        Operand::Field(field) => field,
        Operand::Literal(_) => {
            // Located at the literal (§8: the token where the problem was found).
            return rest.expected(format!(
                "{} to take a field as its first argument",
                function.name()
            ));
        }
    };
    let (rest, _) = expect("','", punct(TokenKind::Comma))(after)?;
    let (rest, argument) = operand(rest)?;
    let (rest, _) = expect("')'", punct(TokenKind::Close))(rest)?;
    rest.count()?;
    Ok((rest, rest.cx.check(|c| c.call(function, &field, &argument))))
}

/// any = "tags/any(" name ":" name "eq" string ")"   ; also tags/all(...)
fn any<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Built> {
    let (rest, quantifier) = lambda_head(input)?;
    rest.enter()?;
    let (rest, variable) = expect("a lambda variable", name)(rest)?;
    let (rest, _) = expect("':'", punct(TokenKind::Colon))(rest)?;
    let (rest, used) = expect("the lambda variable", name)(rest)?;
    if used.text != variable.text {
        return rest.fail(QueryError::LambdaVariable {
            variable: shorten(variable.text),
            found: shorten(used.text),
            position: rest.position(used),
        });
    }
    let (after_op, op) = expect("'eq'", name)(rest)?;
    if op.text != "eq" {
        return rest.fail(QueryError::LambdaOperator {
            found: shorten(op.text),
            position: rest.position(op),
        });
    }
    let (rest, value) = expect("a string literal", literal)(after_op)?;
    let LiteralValue::String(value) = value.value else {
        return rest.fail(QueryError::LambdaValue {
            found: value.value.describe(),
            position: rest.position(op),
        });
    };
    let (rest, _) = expect("')'", punct(TokenKind::Close))(rest)?;
    rest.leave();
    rest.count()?;
    let tags = Filter::Tags {
        quantifier,
        value: value.into_owned(),
    };
    Ok((rest, Some(tags)))
}

/// "tags/any(" or "tags/all(", written without spaces.
fn lambda_head<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Quantifier> {
    let tags = input.peek();
    let mut parts = (
        keyword("tags"),
        punct(TokenKind::Slash),
        alt((
            map(keyword("any"), |t| (t, Quantifier::Any)),
            map(keyword("all"), |t| (t, Quantifier::All)),
        )),
        punct(TokenKind::Open),
    );
    match parts.parse(input) {
        Ok((rest, (_, slash, (word, quantifier), open)))
            if slash.start == tags.start + 4
                && word.start == slash.start + 1
                && open.start == word.start + word.text.len() =>
        {
            Ok((rest, quantifier))
        }
        Ok(_) | Err(nom::Err::Error(_)) => input.fail(QueryError::Syntax {
            position: input.position(tags),
            expected: "tags/any( or tags/all( (no spaces inside)".into(),
            found: format!("'{}'", lambda_text(input)),
        }),
        Err(e) => Err(e),
    }
}

/// The text of the (broken) lambda head, for the error message.
fn lambda_text(input: Tokens<'_, '_>) -> String {
    let text: String = input
        .rest
        .iter()
        .take(4)
        .take_while(|t| t.kind != TokenKind::End)
        .map(|t| t.text)
        .collect::<Vec<_>>()
        .join(" ");
    shorten(&text)
}

/// operand = field / literal; a field is a name that is not a keyword.
fn operand<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Operand<'a>> {
    let token = input.peek();
    if token.kind == TokenKind::Name && !is_keyword(token.text) {
        let field = Name {
            text: token.text,
            at: token.start,
        };
        return Ok((input.advance(), Operand::Field(field)));
    }
    match literal(input) {
        Ok((rest, literal)) => Ok((rest, Operand::Literal(literal))),
        Err(_) => input.expected("a field or a literal"),
    }
}

/// Any name (lambda variables and the `eq` inside a lambda).
fn name<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, &'t Token<'a>> {
    token_if(|t| t.kind == TokenKind::Name)(input)
}

/// literal = string / integer / datetime / "null"
fn literal<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Literal<'a>> {
    let token = input.peek();
    let value = match &token.kind {
        TokenKind::String(s) => LiteralValue::String(s.clone()),
        TokenKind::Integer(i) => LiteralValue::Integer(*i),
        TokenKind::DateTime(t) => LiteralValue::DateTime(*t),
        TokenKind::Name if token.text == "null" => LiteralValue::Null,
        _ => return Err(nom::Err::Error(GrammarError::NoMatch)),
    };
    Ok((
        input.advance(),
        Literal {
            value,
            at: token.start,
        },
    ))
}
