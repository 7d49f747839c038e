//! The grammar of `$filter` (contract §5) over the lexer's tokens: one nom rule per grammar
//! rule, in the order of the grammar. The result is a syntax tree that keeps positions; names
//! and types are the validator's business.
//!
//! Nesting and node limits are counted here, before recursing, so that no input can exhaust
//! the stack: one nesting level is a parenthesised group, a `not` or an `any`/`all` body; one
//! node is a comparison, `in`, call, lambda, `and`, `or` or `not`.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use nom::branch::alt;
use nom::combinator::{map, opt};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};

use super::lexer::{Token, TokenKind};
use super::{char_position, MAX_DEPTH, MAX_IN_ITEMS, MAX_NODES};
use crate::query::error::{shorten, QueryError};
use crate::query::model::{CmpOp, Instant, Quantifier, StringFunction};

/// A parsed `$filter`: its nodes, children before parents, and the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tree<'a> {
    pub nodes: Vec<Expr<'a>>,
    pub root: ExprId,
}

/// A node of a [`Tree`] (the nodes live in one vector: one allocation, not one per node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExprId(usize);

impl<'a> Tree<'a> {
    pub(super) fn get(&self, id: ExprId) -> &Expr<'a> {
        // Ids are only made by `Context::node`, for this tree.
        &self.nodes[id.0]
    }
}

/// A node of the syntax tree, before names and types are checked. Offsets are bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr<'a> {
    Or(ExprId, ExprId),
    And(ExprId, ExprId),
    Not(ExprId),
    Compare {
        left: Operand<'a>,
        op: CmpOp,
        right: Operand<'a>,
    },
    In {
        field: Name<'a>,
        items: Vec<Literal<'a>>,
    },
    Call {
        function: StringFunction,
        field: Name<'a>,
        argument: Operand<'a>,
    },
    Lambda {
        quantifier: Quantifier,
        value: Cow<'a, str>,
    },
}

/// A name where a field is expected.
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

/// What the rules share: the value (to turn offsets into character positions) and the
/// nesting and node counters.
pub(super) struct Context<'a> {
    src: &'a str,
    depth: Cell<usize>,
    nodes: Cell<usize>,
    tree: RefCell<Vec<Expr<'a>>>,
}

impl<'a> Context<'a> {
    fn node(&self, expr: Expr<'a>) -> ExprId {
        let mut tree = self.tree.borrow_mut();
        tree.push(expr);
        ExprId(tree.len() - 1)
    }
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

/// Parses the tokens of `src` into a syntax tree.
pub(super) fn parse<'a>(src: &'a str, tokens: &[Token<'a>]) -> Result<Tree<'a>, QueryError> {
    let cx = Context {
        src,
        depth: Cell::new(0),
        nodes: Cell::new(0),
        tree: RefCell::new(Vec::with_capacity(tokens.len() / 2 + 1)),
    };
    let input = Tokens {
        rest: tokens,
        cx: &cx,
    };
    match filter(input) {
        Ok((_, root)) => Ok(Tree {
            nodes: cx.tree.into_inner(),
            root,
        }),
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
fn filter<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    let (rest, expr) = expr(input)?;
    if rest.peek().kind == TokenKind::End {
        Ok((rest, expr))
    } else {
        rest.expected("'and', 'or' or the end of the filter")
    }
}

/// expr = or
fn expr<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    or(input)
}

/// or = and *( "or" and )
fn or<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    let (mut input, mut left) = and(input)?;
    while let (rest, Some(_)) = opt(keyword("or")).parse(input)? {
        let (rest, right) = and(rest)?;
        rest.count()?;
        left = rest.cx.node(Expr::Or(left, right));
        input = rest;
    }
    Ok((input, left))
}

/// and = unary *( "and" unary )
fn and<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    let (mut input, mut left) = unary(input)?;
    while let (rest, Some(_)) = opt(keyword("and")).parse(input)? {
        let (rest, right) = unary(rest)?;
        rest.count()?;
        left = rest.cx.node(Expr::And(left, right));
        input = rest;
    }
    Ok((input, left))
}

/// unary = "not" unary / primary
fn unary<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    match keyword("not")(input) {
        Ok((rest, _)) => {
            rest.enter()?;
            let (rest, inner) = unary(rest)?;
            rest.leave();
            rest.count()?;
            Ok((rest, rest.cx.node(Expr::Not(inner))))
        }
        Err(_) => primary(input),
    }
}

/// primary = "(" expr ")" / comparison / in / call / any
fn primary<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
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
fn group<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    let (rest, _) = punct(TokenKind::Open)(input)?;
    rest.enter()?;
    let (rest, inner) = expr(rest)?;
    let (rest, _) = expect("')'", punct(TokenKind::Close))(rest)?;
    rest.leave();
    Ok((rest, inner))
}

/// comparison = operand ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) operand
/// in         = field "in" "(" literal *( "," literal ) ")"
fn comparison_or_in<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
    let (rest, left) = operand(input)?;
    let left_token = input.peek();
    if let Ok((after_in, _)) = keyword("in")(rest) {
        return match left {
            Operand::Field(field) => in_list(after_in, field),
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
    Ok((rest, rest.cx.node(Expr::Compare { left, op, right })))
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
fn in_list<'t, 'a: 't>(input: Tokens<'t, 'a>, field: Name<'a>) -> Parsed<'t, 'a, ExprId> {
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
        let (after, item) = expect("a literal in the 'in' list", literal)(rest)?;
        items.push(item);
        match punct(TokenKind::Comma)(after) {
            Ok((after, _)) => rest = after,
            Err(_) => {
                rest = after;
                break;
            }
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
    Ok((rest, rest.cx.node(Expr::In { field, items })))
}

/// call = ( "contains" / "startswith" / "endswith" ) "(" field "," string ")"
///
/// The second argument may be any operand here; the validator asks for a string.
fn call<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
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
    let call = Expr::Call {
        function,
        field,
        argument,
    };
    Ok((rest, rest.cx.node(call)))
}

/// any = "tags/any(" name ":" name "eq" string ")"   ; also tags/all(...)
fn any<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, ExprId> {
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
    Ok((rest, rest.cx.node(Expr::Lambda { quantifier, value })))
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

/// operand = field / literal
fn operand<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Operand<'a>> {
    let field_or_literal = alt((map(field, Operand::Field), map(literal, Operand::Literal)));
    expect("a field or a literal", field_or_literal)(input)
}

/// A name that is not a keyword.
fn field<'t, 'a: 't>(input: Tokens<'t, 'a>) -> Parsed<'t, 'a, Name<'a>> {
    let (rest, token) = token_if(|t| t.kind == TokenKind::Name && !is_keyword(t.text))(input)?;
    Ok((
        rest,
        Name {
            text: token.text,
            at: token.start,
        },
    ))
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
