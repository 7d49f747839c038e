//! Table tests of `$filter` and `$orderby`: every example of the contract (§3, §5, §8), the
//! precedence traps, escaping, each datetime form, each limit at its edge, and each error
//! with its position.

use dam_core::query::{parse_filter, parse_orderby, Filter, Instant, QueryError, Value};

use dam_core::store::{CmpOp, Field, Quantifier, StringFunction};
use dam_core::ImageStatus;

fn ok(text: &str) -> Filter {
    parse_filter(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn err(text: &str) -> QueryError {
    match parse_filter(text) {
        Ok(f) => panic!("{text:?} parsed as {f:?}"),
        Err(e) => e,
    }
}

fn cmp(field: Field, op: CmpOp, value: Value) -> Filter {
    Filter::Compare { field, op, value }
}

fn int(field: Field, op: CmpOp, i: i64) -> Filter {
    cmp(field, op, Value::Integer(i))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn dt(seconds: i64, nanos: u32) -> Value {
    Value::DateTime(Instant { seconds, nanos })
}

/// 2024-01-01T00:00:00Z
const Y2024: i64 = 1_704_067_200;

#[test]
fn precedence_not_and_or_parentheses() {
    use CmpOp::*;
    use Field::*;
    let n0 = || int(NumLinks, Eq, 0);
    let jpg = || cmp(FileType, Eq, s("jpg"));
    let ok_ = || cmp(Status, Eq, Value::Status(ImageStatus::Ready));
    assert_eq!(
        ok("not numLinks eq 0 and fileType eq 'jpg'"),
        and(not(n0()), jpg())
    );
    assert_eq!(
        ok("not (numLinks eq 0 and fileType eq 'jpg')"),
        not(and(n0(), jpg()))
    );
    assert_eq!(
        ok("numLinks eq 0 or numLinks gt 40 and status eq 'Ok'"),
        or(n0(), and(int(NumLinks, Gt, 40), ok_()))
    );
    assert_eq!(
        ok("(numLinks eq 0 or numLinks gt 40) and status eq 'Ok'"),
        and(or(n0(), int(NumLinks, Gt, 40)), ok_())
    );
    assert_eq!(
        ok("numLinks eq 0 and numLinks eq 1 or numLinks eq 2 and numLinks eq 3"),
        or(
            and(n0(), int(NumLinks, Eq, 1)),
            and(int(NumLinks, Eq, 2), int(NumLinks, Eq, 3))
        )
    );
    assert_eq!(ok("not not numLinks eq 0"), not(not(n0())));
    assert_eq!(
        ok("not numLinks eq 0 or fileType eq 'jpg'"),
        or(not(n0()), jpg())
    );
    assert_eq!(
        ok("id eq 1 or id eq 2 or id eq 3"),
        or(or(int(Id, Eq, 1), int(Id, Eq, 2)), int(Id, Eq, 3))
    );
    assert_eq!(ok("((((((((((numLinks eq 0))))))))))"), n0());
    assert_eq!(ok("not(numLinks eq 0)"), not(n0()));
    assert_eq!(
        ok("(numLinks eq 0)and(fileType eq 'jpg')"),
        and(n0(), jpg())
    );
    assert_eq!(
        ok("contains(reference,'a')and numLinks ge 0"),
        and(
            Filter::StringCall {
                function: StringFunction::Contains,
                field: Reference,
                needle: "a".into()
            },
            int(NumLinks, Ge, 0)
        )
    );
    assert_eq!(
        ok("numLinks  eq  3  and  status  eq  'Ok'"),
        and(int(NumLinks, Eq, 3), ok_())
    );
}

#[test]
fn literals_on_the_left_are_turned_around() {
    use CmpOp::*;
    assert_eq!(ok("5 lt numLinks"), int(Field::NumLinks, Gt, 5));
    assert_eq!(ok("5 ge numLinks"), int(Field::NumLinks, Le, 5));
    assert_eq!(ok("'m' lt reference"), cmp(Field::Reference, Gt, s("m")));
    assert_eq!(
        ok("2024-01-01 le createdOn"),
        cmp(Field::CreatedOn, Ge, dt(Y2024, 0))
    );
    assert_eq!(
        ok("null eq originalUrl"),
        Filter::IsNull {
            field: Field::OriginalUrl,
            negated: false
        }
    );
    assert_eq!(
        ok("thumbnailPreviewUrl ne null"),
        Filter::IsNull {
            field: Field::ThumbnailPreviewUrl,
            negated: true
        }
    );
    assert_eq!(
        ok("modifiedOn gt createdOn"),
        Filter::CompareFields {
            left: Field::ModifiedOn,
            op: Gt,
            right: Field::CreatedOn
        }
    );
    assert_eq!(
        ok("reference lt originalUrl"),
        Filter::CompareFields {
            left: Field::Reference,
            op: Lt,
            right: Field::OriginalUrl
        }
    );
}

#[test]
fn strings_escaping_and_any_character() {
    assert_eq!(
        ok("reference eq 'it''s.jpg'"),
        cmp(Field::Reference, CmpOp::Eq, s("it's.jpg"))
    );
    assert_eq!(
        ok("contains(reference,'''')"),
        Filter::StringCall {
            function: StringFunction::Contains,
            field: Field::Reference,
            needle: "'".into()
        }
    );
    assert_eq!(
        ok("reference eq ''"),
        cmp(Field::Reference, CmpOp::Eq, s(""))
    );
    for text in [
        "a+b.png",
        "salt&pepper.jpg",
        "say \"hi\".png",
        " lead",
        "日本",
        "tab\there",
        "nul\0",
    ] {
        let filter = format!("reference eq '{text}'");
        assert_eq!(
            ok(&filter),
            cmp(Field::Reference, CmpOp::Eq, s(text)),
            "{filter}"
        );
    }
    assert_eq!(
        ok("tags/any(x: x eq 'o''neil')"),
        Filter::Tags {
            quantifier: Quantifier::Any,
            value: "o'neil".into()
        }
    );
    assert_eq!(
        ok("tags/all(tag:tag eq 'red')"),
        Filter::Tags {
            quantifier: Quantifier::All,
            value: "red".into()
        }
    );
    assert_eq!(
        ok("fileType in ('jpg', 'it''s')"),
        Filter::In {
            field: Field::FileType,
            values: vec![s("jpg"), s("it's")]
        }
    );
    assert_eq!(
        ok("fileType eq 'JPG'"),
        cmp(Field::FileType, CmpOp::Eq, s("JPG"))
    );
}

#[test]
fn integers() {
    use CmpOp::Eq;
    assert_eq!(ok("id eq 007"), int(Field::Id, Eq, 7));
    assert_eq!(ok("width eq -0"), int(Field::Width, Eq, 0));
    assert_eq!(
        ok("id eq 9223372036854775807"),
        int(Field::Id, Eq, i64::MAX)
    );
    assert_eq!(
        ok("id eq -9223372036854775808"),
        int(Field::Id, Eq, i64::MIN)
    );
    assert_eq!(
        ok("id eq 00000000000000000000000000001"),
        int(Field::Id, Eq, 1)
    );
    assert_eq!(
        err("id eq 9223372036854775808"),
        QueryError::IntegerOutOfRange {
            literal: "9223372036854775808".into(),
            position: 6
        }
    );
    assert_eq!(
        err("id eq -9223372036854775809"),
        QueryError::IntegerOutOfRange {
            literal: "-9223372036854775809".into(),
            position: 6
        }
    );
    assert_eq!(
        err("id eq - 1"),
        QueryError::UnexpectedCharacter {
            character: '-',
            position: 6
        }
    );
    assert_eq!(
        err("id eq +1"),
        QueryError::UnexpectedCharacter {
            character: '+',
            position: 6
        }
    );
    assert_eq!(
        err("id eq １"),
        QueryError::UnexpectedCharacter {
            character: '１',
            position: 6
        }
    );
}

#[test]
fn each_datetime_form() {
    let c = |text: &str| match ok(&format!("createdOn eq {text}")) {
        Filter::Compare {
            value: Value::DateTime(i),
            ..
        } => (i.seconds - Y2024, i.nanos),
        other => panic!("{other:?}"),
    };
    assert_eq!(c("2024-01-01"), (0, 0));
    assert_eq!(c("2024-01-01T10:20"), (37_200, 0));
    assert_eq!(c("2024-01-01T10:20:30"), (37_230, 0));
    assert_eq!(c("2024-01-01T10:20:30.5"), (37_230, 500_000_000));
    assert_eq!(c("2024-01-01T10:20:30.000000001"), (37_230, 1));
    assert_eq!(c("2024-01-01T10:20:30.123456789Z"), (37_230, 123_456_789));
    assert_eq!(c("2024-01-01T10:20Z"), (37_200, 0));
    assert_eq!(c("2024-01-01T12:20+02:00"), (37_200, 0));
    assert_eq!(c("2024-01-01T04:50:30-05:30"), (37_230, 0));
    assert_eq!(c("2024-01-01T00:00:00.000"), (0, 0));
    assert_eq!(c("2024-02-29"), (59 * 86_400, 0));
    // §5: fractions count.
    assert_eq!(
        ok("modifiedOn ge 2024-01-01T00:00:00.500"),
        cmp(Field::ModifiedOn, CmpOp::Ge, dt(Y2024, 500_000_000))
    );
    assert_eq!(
        ok("createdOn in (2022-01-02T21:09:20,2025-04-04)"),
        Filter::In {
            field: Field::CreatedOn,
            values: vec![dt(1_641_157_760, 0), dt(1_743_724_800, 0)]
        }
    );
}

#[test]
fn bad_datetimes() {
    let bad = |text: &str, reason: &str| {
        let e = err(&format!("createdOn gt {text}"));
        assert!(
            matches!(&e, QueryError::InvalidDateTime { position: 13, reason: r, .. } if r.contains(reason)),
            "{text}: {e:?}"
        );
    };
    bad("2024-13-01", "month");
    bad("2023-02-29", "day");
    bad("2024-01-01T25:00:00", "hour");
    bad("2024-01-01T10:61", "minute");
    bad("2024-01-01T10:00:60", "second");
    bad("2024-01-01T10:00+24:00", "zone");
    bad("0000-01-01", "year");
    // A zone without a time, or a malformed time, is a syntax error where the word breaks.
    let sep = |text: &str, position: usize, character: char| {
        assert!(
            matches!(err(&format!("createdOn gt {text}")), QueryError::MissingSeparator { position: p, character: c, .. } if p == position && c == character),
            "{text}"
        );
    };
    sep("2024-01-01Z", 23, 'Z');
    sep("2024-01-01T10", 23, 'T');
    sep("2024-01-01T10:00:00.", 32, '.');
    sep("2024-01-01T10:00:00.1234567890", 42, '0');
    sep("2024-01-01T10:00+05", 29, '+');
    sep("2024-1-01", 17, '-');
    assert!(matches!(
        err("createdOn gt 2024-01-01T10:00:5"),
        QueryError::Syntax { position: 29, .. }
    ));
}

#[test]
fn words_end_at_space_punctuation_or_end() {
    assert_eq!(
        err("1and x"),
        QueryError::MissingSeparator {
            word: "1".into(),
            character: 'a',
            position: 1
        }
    );
    assert_eq!(
        err("'a'and x"),
        QueryError::MissingSeparator {
            word: "'a'".into(),
            character: 'a',
            position: 3
        }
    );
    assert_eq!(
        err("numLinks==5"),
        QueryError::MissingSeparator {
            word: "numLinks".into(),
            character: '=',
            position: 8
        }
    );
    assert_eq!(
        err("numLinks\teq 1"),
        QueryError::MissingSeparator {
            word: "numLinks".into(),
            character: '\t',
            position: 8
        }
    );
    assert_eq!(
        err("numLinks eq 1\t"),
        QueryError::MissingSeparator {
            word: "1".into(),
            character: '\t',
            position: 13
        }
    );
    assert_eq!(
        err("numLinks == 5"),
        QueryError::UnexpectedCharacter {
            character: '=',
            position: 9
        }
    );
    assert_eq!(
        err("\tnumLinks eq 1"),
        QueryError::UnexpectedCharacter {
            character: '\t',
            position: 0
        }
    );
    // Names, not keywords: unknown fields.
    for (text, name) in [
        ("notnumLinks eq 1", "notnumLinks"),
        ("numLinkseq 1", "numLinkseq"),
        ("andnumLinks eq 1", "andnumLinks"),
    ] {
        let e = parse_filter(text);
        assert!(
            matches!(&e, Err(QueryError::UnknownField { name: n, position: 0, .. }) if n == name)
                || matches!(&e, Err(QueryError::Syntax { .. })),
            "{text}: {e:?}"
        );
    }
    assert!(matches!(
        err("notnumLinks eq 1"),
        QueryError::UnknownField { position: 0, .. }
    ));
    assert!(matches!(
        err("numLinkseq 1"),
        QueryError::Syntax { position: 11, .. }
    ));
    // Lexical errors anywhere come before grammar errors earlier on.
    assert_eq!(
        err("eq eq 'abc"),
        QueryError::UnterminatedString { position: 6 }
    );
}

#[test]
fn syntax_errors_with_positions() {
    let syntax = |text: &str, position: usize, expected: &str| match err(text) {
        QueryError::Syntax {
            position: p,
            expected: e,
            ..
        } => {
            assert_eq!((p, e.as_str()), (position, expected), "{text}");
        }
        other => panic!("{text}: {other:?}"),
    };
    let e = err("numLinks 5");
    assert_eq!(
        e.to_string(),
        "$filter: expected a comparison operator after 'numLinks' at position 9, found '5'"
    );
    assert_eq!((e.parameter(), e.position()), ("$filter", Some(9)));
    syntax(
        "numLinks eqq 5",
        9,
        "a comparison operator after 'numLinks'",
    );
    syntax("numLinks EQ 5", 9, "a comparison operator after 'numLinks'");
    syntax(
        "numLinks eq 1 AND numLinks eq 2",
        14,
        "'and', 'or' or the end of the filter",
    );
    syntax(
        "numLinks eq 1 xyz",
        14,
        "'and', 'or' or the end of the filter",
    );
    syntax("numLinks eq 1)", 13, "'and', 'or' or the end of the filter");
    syntax("(numLinks eq 1", 14, "')'");
    syntax("((numLinks eq 1) and (status eq 'Ok')", 37, "')'");
    syntax("numLinks eq", 11, "a field or a literal");
    syntax("eq 5", 0, "a field or a literal");
    syntax("numLinks eq 1 and", 17, "a field or a literal");
    syntax("()", 1, "a field or a literal");
    syntax("not", 3, "a field or a literal");
    syntax("numLinks in 1,2", 12, "'(' after 'in'");
    syntax("numLinks in (1 2)", 15, "',' or ')' closing the 'in' list");
    syntax("numLinks in (1,)", 15, "a literal in the 'in' list");
    syntax("numLinks in (id)", 13, "a literal in the 'in' list");
    syntax("contains(reference)", 18, "','");
    syntax("contains(reference,'a'", 22, "')'");
    syntax(
        "substringof('a',reference)",
        11,
        "a comparison operator after 'substringof'",
    );
    syntax(
        "tags/some(t: t eq 'red')",
        0,
        "tags/any( or tags/all( (no spaces inside)",
    );
    syntax(
        "tags /any(t: t eq 'red')",
        0,
        "tags/any( or tags/all( (no spaces inside)",
    );
    syntax(
        "tags/any (t: t eq 'red')",
        0,
        "tags/any( or tags/all( (no spaces inside)",
    );
    syntax("tags/any(t t eq 'red')", 11, "':'");
    syntax("tags/any(: t eq 'red')", 9, "a lambda variable");
    syntax("tags/any(t: t eq 'red'", 22, "')'");
    syntax("tags/any(t: t 'red')", 14, "'eq'");
    syntax(
        "5 in (5)",
        2,
        "a field on the left of 'in', not the literal 5",
    );
    assert_eq!(
        err("numLinks in ()"),
        QueryError::EmptyInList { position: 13 }
    );
    assert_eq!(
        err("reference eq 'abc"),
        QueryError::UnterminatedString { position: 13 }
    );
    assert_eq!(
        err("reference eq 'it''s"),
        QueryError::UnterminatedString { position: 13 }
    );
    assert_eq!(err(""), QueryError::EmptyFilter { position: 0 });
    assert_eq!(err("   "), QueryError::EmptyFilter { position: 3 });
    assert_eq!(
        err("tags/any(t: x eq 'red')"),
        QueryError::LambdaVariable {
            variable: "t".into(),
            found: "x".into(),
            position: 12
        }
    );
    assert_eq!(
        err("tags/any(t: t gt 'red')"),
        QueryError::LambdaOperator {
            found: "gt".into(),
            position: 14
        }
    );
    assert_eq!(
        err("tags/any(t: t eq 5)"),
        QueryError::LambdaValue {
            found: "an integer",
            position: 14
        }
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    let e = err("reference eq 'ééé' and numLinks 5");
    assert_eq!(e.position(), Some(32));
    assert!(e.to_string().contains("at position 32"));
    assert_eq!(
        err("'日本' eq x é"),
        QueryError::UnexpectedCharacter {
            character: 'é',
            position: 10
        }
    );
}

#[test]
fn names_and_types() {
    use CmpOp::*;
    use Field::*;
    let unknown = |text: &str, name: &str, position: usize| {
        let e = err(text);
        assert!(
            matches!(&e, QueryError::UnknownField { name: n, position: p, .. } if n == name && *p == position),
            "{text}: {e:?}"
        );
        let detail = e.to_string();
        assert!(detail.contains(name) && detail.contains("valid fields are id, reference, fileType, status, numLinks, createdOn, modifiedOn, tags, originalUrl"), "{detail}");
    };
    unknown("foo eq 1", "foo", 0);
    unknown("NumLinks eq 1", "NumLinks", 0);
    unknown("contains(name,'a')", "name", 9);
    unknown("size in (1,2)", "size", 0);
    unknown("numLinks eq 1 or 2 lt Width", "Width", 22);
    unknown("numLinks eq size", "size", 12);

    let mismatch = |text: &str, field: Field, position: usize| {
        let e = err(text);
        assert!(
            matches!(&e, QueryError::TypeMismatch { field: f, position: p, .. } if *f == field && *p == position),
            "{text}: {e:?}"
        );
        let detail = e.to_string();
        assert!(
            detail.contains(field.name()) && detail.contains(field.field_type().describe()),
            "{detail}"
        );
    };
    mismatch("numLinks eq 'x'", NumLinks, 0);
    mismatch("createdOn gt 5", CreatedOn, 0);
    mismatch("reference eq 5", Reference, 0);
    mismatch("id eq '1'", Id, 0);
    mismatch("createdOn eq '2024-01-01'", CreatedOn, 0);
    mismatch("numLinks lt 2024-01-01", NumLinks, 0);
    mismatch("numLinks eq createdOn", NumLinks, 12);
    mismatch("status eq 'Xx'", Status, 0);
    mismatch("status eq 'ok'", Status, 0);
    mismatch("status eq 1", Status, 0);
    mismatch("status in ('Ok','Xx')", Status, 0);
    mismatch("numLinks in (1,'a')", NumLinks, 0);
    mismatch("originalUrl eq 5", OriginalUrl, 0);
    mismatch("status eq reference", Status, 10);
    mismatch("'x' eq width", Width, 7);

    assert_eq!(
        err("status gt 'Ok'"),
        QueryError::OrderingOnStatus {
            operator: Gt,
            position: 0
        }
    );
    assert_eq!(
        err("'Ok' lt status"),
        QueryError::OrderingOnStatus {
            operator: Gt,
            position: 8
        }
    );
    assert_eq!(
        err("tags eq 'red'"),
        QueryError::TagsOutsideLambda { position: 0 }
    );
    assert_eq!(
        err("numLinks eq 1 and tags in ('a')"),
        QueryError::TagsOutsideLambda { position: 18 }
    );
    assert_eq!(
        err("numLinks eq null"),
        QueryError::NullNotAllowed {
            field: NumLinks,
            operator: Eq,
            position: 0
        }
    );
    assert_eq!(
        err("reference eq null"),
        QueryError::NullNotAllowed {
            field: Reference,
            operator: Eq,
            position: 0
        }
    );
    assert_eq!(
        err("thumbnailUrl gt null"),
        QueryError::NullNotAllowed {
            field: ThumbnailUrl,
            operator: Gt,
            position: 0
        }
    );
    assert_eq!(
        err("originalUrl in ('a', null)"),
        QueryError::NullInList {
            field: OriginalUrl,
            position: 0
        }
    );
    assert_eq!(
        err("1 eq 1"),
        QueryError::ComparisonWithoutField { position: 0 }
    );
    assert_eq!(
        err("contains(numLinks,'1')"),
        QueryError::StringFunctionField {
            function: StringFunction::Contains,
            field: NumLinks,
            position: 9
        }
    );
    assert_eq!(
        err("contains(tags,'red')"),
        QueryError::StringFunctionField {
            function: StringFunction::Contains,
            field: Tags,
            position: 9
        }
    );
    assert_eq!(
        err("contains(reference,5)"),
        QueryError::StringFunctionArgument {
            function: StringFunction::Contains,
            field: Reference,
            found: "an integer".into(),
            position: 9
        }
    );
    // URL fields take the string functions; status takes in.
    assert!(matches!(
        ok("startswith(originalUrl,'https://')"),
        Filter::StringCall {
            field: OriginalUrl,
            ..
        }
    ));
    assert_eq!(
        ok("status in ('Up','Re')"),
        Filter::In {
            field: Status,
            values: vec![
                Value::Status(ImageStatus::Updating),
                Value::Status(ImageStatus::Reprocessing)
            ]
        }
    );
    // Errors come in reading order: the first problem is reported.
    assert!(matches!(
        err("foo eq 1 and numLinks eq 'x'"),
        QueryError::UnknownField { .. }
    ));
    assert!(matches!(
        err("numLinks eq 'x' and foo eq 1"),
        QueryError::TypeMismatch { .. }
    ));
    // Syntax before meaning.
    assert!(matches!(
        err("foo eq 1 and ("),
        QueryError::Syntax { position: 14, .. }
    ));
}

#[test]
fn limits_at_their_edges() {
    // $filter: 4096 bytes pass, 4097 fail (counted in bytes).
    let filler = |n: usize| format!("id eq 1{}", " ".repeat(n - 7));
    assert!(parse_filter(&filler(4096)).is_ok());
    assert_eq!(
        err(&filler(4097)),
        QueryError::FilterTooLong {
            bytes: 4097,
            limit: 4096
        }
    );
    let e = err(&format!("reference eq '{}'", "é".repeat(2041)));
    assert!(
        matches!(e, QueryError::FilterTooLong { bytes: 4097, .. }),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("$filter: "));
    assert_eq!(e.position(), None);

    // Nesting: 32 levels pass, 33 fail, counted before recursing.
    let parens = |n: usize| format!("{}id eq 1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_filter(&parens(32)).is_ok());
    assert_eq!(
        err(&parens(33)),
        QueryError::TooDeep {
            position: 33,
            limit: 32
        }
    );
    let nots = |n: usize| format!("{}id eq 1", "not ".repeat(n));
    assert!(parse_filter(&nots(32)).is_ok());
    assert_eq!(
        err(&nots(33)),
        QueryError::TooDeep {
            position: 132,
            limit: 32
        }
    );
    let mixed = format!(
        "{}tags/any(t: t eq 'a'){}",
        "not (".repeat(15),
        ")".repeat(15)
    );
    assert!(parse_filter(&mixed).is_ok(), "31 levels");
    let mixed = format!(
        "{}tags/any(t: t eq 'a'){}",
        "not (".repeat(16),
        ")".repeat(16)
    );
    assert_eq!(
        err(&mixed),
        QueryError::TooDeep {
            position: 16 * 5 + 9,
            limit: 32
        }
    );
    assert_eq!(
        err(&"(".repeat(2000)),
        QueryError::TooDeep {
            position: 33,
            limit: 32
        }
    );
    assert!(err(&"(".repeat(4096))
        .to_string()
        .contains("nesting deeper than 32 levels at position 33"));

    // Nodes: 256 pass, 257 fail.
    let chain = |n: usize| vec!["id eq 1"; n].join(" or ");
    assert!(
        parse_filter(&format!("not ({})", chain(128))).is_ok(),
        "128 + 127 + 1"
    );
    // The 257th node is the last comparison: found at the token after it, the end.
    let over = format!("not ({}) or id eq 2", chain(128));
    assert_eq!(
        err(&over),
        QueryError::TooManyNodes {
            position: over.len(),
            limit: 256
        }
    );
    let calls = vec!["contains(reference,'a')"; 128].join(" and ");
    assert!(parse_filter(&format!("not ({calls})")).is_ok());
    let ins = vec!["id in (1,2,3)"; 129].join(" and ");
    assert!(matches!(err(&ins), QueryError::TooManyNodes { .. }));

    // in lists: 100 items pass, 101 fail.
    let list = |n: usize| {
        format!(
            "id in ({})",
            (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        )
    };
    assert!(matches!(ok(&list(100)), Filter::In { values, .. } if values.len() == 100));
    assert_eq!(
        err(&list(101)),
        QueryError::InListTooLong {
            field: "id".into(),
            position: 0,
            items: 101,
            limit: 100
        }
    );

    // String literals: 1024 bytes pass, 1025 fail, after unescaping, in UTF-8 bytes.
    let lit = |body: String| format!("reference eq '{body}'");
    assert!(parse_filter(&lit("x".repeat(1024))).is_ok());
    assert_eq!(
        err(&lit("x".repeat(1025))),
        QueryError::StringTooLong {
            position: 13,
            bytes: 1025,
            limit: 1024
        }
    );
    assert!(parse_filter(&lit("''".repeat(1024))).is_ok());
    assert_eq!(
        err(&lit("''".repeat(1025))),
        QueryError::StringTooLong {
            position: 13,
            bytes: 1025,
            limit: 1024
        }
    );
    assert!(parse_filter(&lit("é".repeat(512))).is_ok());
    assert_eq!(
        err(&lit("é".repeat(513))),
        QueryError::StringTooLong {
            position: 13,
            bytes: 1026,
            limit: 1024
        }
    );
}

#[test]
fn printing_is_canonical() {
    let canonical = |text: &str, printed: &str| {
        let f = ok(text);
        assert_eq!(f.to_string(), printed, "{text}");
        assert_eq!(ok(printed), f);
    };
    canonical("5 lt numLinks", "numLinks gt 5");
    canonical("null eq originalUrl", "originalUrl eq null");
    canonical(
        "not numLinks eq 0 and fileType eq 'jpg'",
        "not numLinks eq 0 and fileType eq 'jpg'",
    );
    canonical(
        "not (numLinks eq 0 and fileType eq 'jpg')",
        "not (numLinks eq 0 and fileType eq 'jpg')",
    );
    canonical(
        "(id eq 1 or id eq 2) and id eq 3",
        "(id eq 1 or id eq 2) and id eq 3",
    );
    canonical(
        "id eq 1 or (id eq 2 or id eq 3)",
        "id eq 1 or (id eq 2 or id eq 3)",
    );
    canonical(
        "id eq 1 and (id eq 2 and id eq 3)",
        "id eq 1 and (id eq 2 and id eq 3)",
    );
    canonical(
        "((id eq 1)) or id eq 2 and id eq 3",
        "id eq 1 or id eq 2 and id eq 3",
    );
    canonical("tags/all(x:x eq 'it''s')", "tags/all(t: t eq 'it''s')");
    canonical("status in ('Up','Re')", "status in ('Up', 'Re')");
    canonical("contains(reference,'a')", "contains(reference, 'a')");
    canonical(
        "createdOn eq 2024-01-01T00:00:00.000Z",
        "createdOn eq 2024-01-01",
    );
    canonical(
        "createdOn eq 2024-01-01T02:00+02:00",
        "createdOn eq 2024-01-01",
    );
    canonical(
        "createdOn eq 2024-01-01T10:20:00",
        "createdOn eq 2024-01-01T10:20",
    );
    canonical(
        "createdOn eq 2024-01-01T10:20:30.500",
        "createdOn eq 2024-01-01T10:20:30.5",
    );
    canonical(
        "createdOn eq 2023-12-31T23:00-01:00",
        "createdOn eq 2024-01-01",
    );
    canonical(
        "createdOn eq 0001-01-01T00:00+01:00",
        "createdOn eq 0001-01-01T22:59+23:59",
    );
    canonical(
        "createdOn eq 9999-12-31T23:59:59.999999999-23:59",
        "createdOn eq 9999-12-31T23:59:59.999999999-23:59",
    );
    canonical("id eq -00042", "id eq -42");
}

#[test]
fn orderby_examples() {
    use dam_core::store::SortKey;
    let key = |field, descending| SortKey { field, descending };
    assert_eq!(
        parse_orderby("numLinks desc").unwrap(),
        vec![key(Field::NumLinks, true)]
    );
    assert_eq!(
        parse_orderby("numLinks").unwrap(),
        vec![key(Field::NumLinks, false)]
    );
    assert_eq!(
        parse_orderby("fileType desc,numLinks,modifiedOn desc").unwrap(),
        vec![
            key(Field::FileType, true),
            key(Field::NumLinks, false),
            key(Field::ModifiedOn, true)
        ]
    );
    assert_eq!(
        parse_orderby("modifiedOn desc, numLinks").unwrap(),
        vec![key(Field::ModifiedOn, true), key(Field::NumLinks, false)]
    );
    for (text, position) in [
        ("tags", 0),
        ("foo", 0),
        ("originalUrl", 0),
        ("width,thumbnailUrl desc", 6),
        ("NumLinks", 0),
        ("numLinks,numLinks", 9),
        ("numLinks asc,id,numLinks desc", 16),
        ("numLinks sideways", 9),
        ("numLinks desc asc", 14),
        ("numLinks,", 9),
        ("", 0),
    ] {
        let e = parse_orderby(text).unwrap_err();
        assert_eq!(
            (e.parameter(), e.position()),
            ("$orderby", Some(position)),
            "{text}: {e:?}"
        );
        assert!(e.to_string().starts_with("$orderby: "), "{e}");
        assert!(
            e.to_string().contains(&format!("position {position}")),
            "{e}"
        );
    }
}
