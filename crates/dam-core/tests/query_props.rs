//! Property tests of `$filter` and `$orderby` (contract §3, §5, §8): printing round-trips and
//! is idempotent, no input panics, and every error variant is produced exactly, with its
//! position, by inputs generated for it.

use dam_core::query::{
    parse_filter, parse_orderby, FieldType, Filter, Instant, QueryError, Value, MAX_FILTER_BYTES,
};

use dam_core::store::{CmpOp, Field, Quantifier, StringFunction};
use dam_core::ImageStatus;
use proptest::prelude::*;
use proptest::sample::select;

// ----- generators of well-typed filters -----------------------------------------------------

/// The first and last instants a datetime literal can name (0001-01-01T00:00+23:59 and
/// 9999-12-31T23:59:59.999999999-23:59).
const FIRST_SECOND: i64 = -62_135_596_800 - 86_340;
const LAST_SECOND: i64 = 253_402_300_799 + 86_340;

fn instant() -> impl Strategy<Value = Instant> {
    prop_oneof![
        (FIRST_SECOND..=LAST_SECOND, 0u32..1_000_000_000)
            .prop_map(|(seconds, nanos)| Instant { seconds, nanos }),
        (FIRST_SECOND / 86_400..LAST_SECOND / 86_400)
            .prop_map(|days| Instant::from_seconds(days * 86_400)),
        (FIRST_SECOND / 60..LAST_SECOND / 60).prop_map(|m| Instant::from_seconds(m * 60)),
        (-10_000i64..10_000, 0u32..1000).prop_map(|(s, ms)| Instant {
            seconds: s,
            nanos: ms * 1_000_000
        }),
        Just(Instant {
            seconds: FIRST_SECOND,
            nanos: 0
        }),
        Just(Instant {
            seconds: LAST_SECOND,
            nanos: 999_999_999
        }),
    ]
}

/// Any text a string literal may hold: quotes, NUL, spaces, any Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        2 => "[a-z' ()]{0,12}",
        1 => "'{0,6}",
    ]
}

fn status() -> impl Strategy<Value = ImageStatus> {
    select(ImageStatus::ALL.to_vec())
}

fn value_of(t: FieldType) -> BoxedStrategy<Value> {
    match t {
        FieldType::Integer => any::<i64>().prop_map(Value::Integer).boxed(),
        FieldType::DateTime => instant().prop_map(Value::DateTime).boxed(),
        FieldType::String | FieldType::NullableString => text().prop_map(Value::String).boxed(),
        FieldType::Status => status().prop_map(Value::Status).boxed(),
        FieldType::Tags => Just(Value::Integer(0)).boxed(),
    }
}

fn comparable_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| *f != Field::Tags)
        .collect()
}

fn string_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| {
            matches!(
                f.field_type(),
                FieldType::String | FieldType::NullableString
            )
        })
        .collect()
}

fn url_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| f.field_type() == FieldType::NullableString)
        .collect()
}

fn op_for(field: Field) -> BoxedStrategy<CmpOp> {
    if field == Field::Status {
        select(vec![CmpOp::Eq, CmpOp::Ne]).boxed()
    } else {
        select(CmpOp::ALL.to_vec()).boxed()
    }
}

fn leaf() -> impl Strategy<Value = Filter> {
    let compare =
        select(comparable_fields()).prop_flat_map(|field| {
            (op_for(field), value_of(field.field_type()))
                .prop_map(move |(op, value)| Filter::Compare { field, op, value })
        });
    let compare_fields = (select(comparable_fields()), select(comparable_fields()))
        .prop_filter("same type", |(a, b)| {
            a.field_type().comparable_with(b.field_type())
        })
        .prop_flat_map(|(left, right)| {
            op_for(left).prop_map(move |op| Filter::CompareFields { left, op, right })
        });
    let is_null = (select(url_fields()), any::<bool>())
        .prop_map(|(field, negated)| Filter::IsNull { field, negated });
    let in_list = select(comparable_fields()).prop_flat_map(|field| {
        proptest::collection::vec(value_of(field.field_type()), 1..6)
            .prop_map(move |values| Filter::In { field, values })
    });
    let call = (
        select(vec![
            StringFunction::Contains,
            StringFunction::StartsWith,
            StringFunction::EndsWith,
        ]),
        select(string_fields()),
        text(),
    )
        .prop_map(|(function, field, needle)| Filter::StringCall {
            function,
            field,
            needle,
        });
    let tags = (select(vec![Quantifier::Any, Quantifier::All]), text())
        .prop_map(|(quantifier, value)| Filter::Tags { quantifier, value });
    prop_oneof![3 => compare, 1 => compare_fields, 1 => is_null, 1 => in_list, 1 => call, 1 => tags]
}

/// Well-typed filters within every limit (small enough to print under 4096 bytes mostly).
fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(5, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

proptest! {
    /// (1) parse(print(f)) == f for well-typed filters.
    #[test]
    fn printing_round_trips(f in filter()) {
        let printed = f.to_string();
        prop_assume!(printed.len() <= MAX_FILTER_BYTES);
        prop_assert_eq!(parse_filter(&printed), Ok(f), "{}", printed);
    }

    /// (4) printing is idempotent: print(parse(print(f))) == print(f).
    #[test]
    fn printing_is_idempotent(f in filter()) {
        let printed = f.to_string();
        prop_assume!(printed.len() <= MAX_FILTER_BYTES);
        let again = parse_filter(&printed).map(|g| g.to_string());
        prop_assert_eq!(again, Ok(printed));
    }

    /// (2) arbitrary text never panics, and an error always names $filter with a position
    /// inside the value (or none, for the length limit).
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,80}") {
        check_total(&s);
    }

    /// (2) arbitrary bytes, decoded lossily, never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        check_total(&String::from_utf8_lossy(&bytes));
    }

    /// (2) sequences of the language's own words (more likely to get deep) never panic.
    #[test]
    fn word_soup_never_panics(words in proptest::collection::vec(select(vec![
        "numLinks", "reference", "status", "tags", "createdOn", "originalUrl", "eq", "ne", "gt",
        "and", "or", "not", "in", "null", "contains", "any", "t", "'a'", "'Ok'", "1", "-2",
        "2024-01-01", "2024-01-01T10:00Z", "(", ")", ",", ":", "/", " ", " ", "'", "\t",
    ]), 0..40)) {
        check_total(&words.concat());
        let _ = parse_orderby(&words.concat());
    }

    /// (2) $orderby never panics either.
    #[test]
    fn orderby_never_panics(s in ".{0,40}") {
        if let Err(e) = parse_orderby(&s) {
            prop_assert_eq!(e.parameter(), "$orderby");
            prop_assert!(e.position().is_some_and(|p| p <= s.chars().count()));
        }
    }
}

fn check_total(s: &str) {
    match parse_filter(s) {
        Ok(f) => {
            assert_eq!(parse_filter(&f.to_string()).as_ref(), Ok(&f), "{s:?}");
        }
        Err(e) => {
            assert_eq!(e.parameter(), "$filter");
            let text = e.to_string();
            assert!(text.starts_with("$filter: "), "{text}");
            match e.position() {
                Some(p) => {
                    assert!(p <= s.chars().count(), "{s:?}: {e:?}");
                    assert!(text.contains(&format!("position {p}")), "{text}");
                }
                None => assert!(matches!(e, QueryError::FilterTooLong { .. })),
            }
        }
    }
}

// ----- (3) one generator per error variant --------------------------------------------------

/// A valid filter's text followed by " and ", to shift positions by arbitrary text (strings
/// of any Unicode), with the character count where the next part starts.
fn prefix() -> impl Strategy<Value = (String, usize)> {
    prop_oneof![
        1 => Just(String::new()),
        3 => filter()
            .prop_filter("short", |f| f.to_string().len() < 1500)
            .prop_map(|f| format!("{f} and ")),
    ]
    .prop_map(|p| {
        let n = p.chars().count();
        (p, n)
    })
}

fn unknown_name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,12}".prop_filter("not a field or keyword", |n| {
        Field::from_name(n).is_none()
            && ![
                "and",
                "or",
                "not",
                "in",
                "eq",
                "ne",
                "gt",
                "ge",
                "lt",
                "le",
                "null",
                "contains",
                "startswith",
                "endswith",
            ]
            .contains(&n.as_str())
    })
}

fn field_of(types: &'static [FieldType]) -> impl Strategy<Value = Field> {
    select(
        Field::ALL
            .into_iter()
            .filter(|f| types.contains(&f.field_type()))
            .collect::<Vec<_>>(),
    )
}

/// A literal's text that is *not* of `t`'s type (nor null).
fn wrong_literal(t: FieldType) -> BoxedStrategy<String> {
    let integer = any::<i64>().prop_map(|i| i.to_string());
    let datetime = Just("2024-05-06T07:08:09.5+01:00".to_string());
    let string = Just("'x''y'".to_string());
    match t {
        FieldType::Integer => prop_oneof![datetime, string].boxed(),
        FieldType::DateTime => prop_oneof![integer, string].boxed(),
        FieldType::String | FieldType::NullableString => prop_oneof![integer, datetime].boxed(),
        FieldType::Status => prop_oneof![integer, datetime, Just("'ok'".to_string())].boxed(),
        FieldType::Tags => Just("1".to_string()).boxed(),
    }
}

const SPACES: &str = " {1,3}";

proptest! {
    #[test]
    fn unexpected_character((p, n) in prefix(), c in select(vec!['\t', '=', '.', '"', '!', '*', 'é', '\n']), tail in ".{0,10}") {
        let e = parse_filter(&format!("{p}{c}{tail}")).unwrap_err();
        prop_assert_eq!(e, QueryError::UnexpectedCharacter { character: c, position: n });
    }

    #[test]
    fn missing_separator((p, n) in prefix(), word in select(vec!["numLinks", "'a''b'", "12", "2024-01-01", "x_1"]), c in select(vec!['=', '\'', '.', '\t', 'é', '!'])) {
        prop_assume!(!(word.starts_with('\'') && c == '\''));
        let e = parse_filter(&format!("{p}{word}{c} eq 1")).unwrap_err();
        let word_chars = word.chars().count();
        prop_assert_eq!(e, QueryError::MissingSeparator { word: word.to_string(), character: c, position: n + word_chars });
    }

    #[test]
    fn unterminated_string((p, n) in prefix(), body in "[^']{0,20}", escapes in 0usize..3) {
        let text = format!("{p}reference eq '{body}{}", "''".repeat(escapes));
        let e = parse_filter(&text).unwrap_err();
        prop_assert_eq!(e, QueryError::UnterminatedString { position: n + 13 });
    }

    #[test]
    fn string_too_long((p, n) in prefix(), len in 1025usize..1500, c in select(vec!["x", "''", "é"])) {
        let body = c.repeat(len);
        let bytes = len * if c == "é" { 2 } else { 1 };
        let text = format!("{p}contains(reference, '{body}')");
        prop_assume!(text.len() <= MAX_FILTER_BYTES);
        let e = parse_filter(&text).unwrap_err();
        prop_assert_eq!(e, QueryError::StringTooLong { position: n + 20, bytes, limit: 1024 });
    }

    #[test]
    fn integer_out_of_range((p, n) in prefix(), big in "922337203685477580[89]|-9223372036854775809|-?[1-9][0-9]{19,25}") {
        let e = parse_filter(&format!("{p}numLinks eq {big}")).unwrap_err();
        prop_assert_eq!(e, QueryError::IntegerOutOfRange { literal: big.clone(), position: n + 12 });
    }

    #[test]
    fn invalid_datetime((p, n) in prefix(), literal in select(vec![
        "2024-13-01", "2023-02-29", "2024-04-31", "0000-01-01", "2024-00-10", "2024-01-00",
        "2024-01-01T24:00", "2024-01-01T10:60", "2024-01-01T10:00:60", "2024-01-01T10:00+24:00",
        "2024-01-01T10:00-01:60",
    ])) {
        let e = parse_filter(&format!("{p}createdOn gt {literal}")).unwrap_err();
        prop_assert!(matches!(&e, QueryError::InvalidDateTime { position, literal: l, .. } if *position == n + 13 && l == literal), "{e:?}");
    }

    #[test]
    fn syntax_two_expressions((p, n) in prefix(), f in filter(), spaces in SPACES) {
        let first = format!("({f})");
        let text = format!("{p}{first}{spaces}numLinks eq 1");
        prop_assume!(text.len() <= MAX_FILTER_BYTES);
        let e = parse_filter(&text).unwrap_err();
        let position = n + first.chars().count() + spaces.len();
        prop_assert_eq!(e, QueryError::Syntax { position, expected: "'and', 'or' or the end of the filter".into(), found: "'numLinks'".into() });
    }

    #[test]
    fn syntax_missing_operator((p, n) in prefix(), field in select(comparable_fields()), spaces in SPACES) {
        let e = parse_filter(&format!("{p}{field}{spaces}5")).unwrap_err();
        let position = n + field.name().len() + spaces.len();
        prop_assert_eq!(e, QueryError::Syntax { position, expected: format!("a comparison operator after '{field}'"), found: "'5'".into() });
    }

    #[test]
    fn empty_filter(spaces in " {0,20}") {
        prop_assert_eq!(parse_filter(&spaces), Err(QueryError::EmptyFilter { position: spaces.len() }));
    }

    #[test]
    fn filter_too_long(extra in 1usize..100) {
        let text = format!("reference eq '{}'", "x".repeat(MAX_FILTER_BYTES - 15 + extra));
        prop_assert_eq!(parse_filter(&text), Err(QueryError::FilterTooLong { bytes: MAX_FILTER_BYTES + extra, limit: MAX_FILTER_BYTES }));
    }

    #[test]
    fn empty_in_list((p, n) in prefix(), field in select(comparable_fields()), s1 in " {0,2}", s2 in " {0,2}") {
        let e = parse_filter(&format!("{p}{field} in{s1}({s2})")).unwrap_err();
        let position = n + field.name().len() + 3 + s1.len() + 1 + s2.len();
        prop_assert_eq!(e, QueryError::EmptyInList { position });
    }

    #[test]
    fn too_deep_parens(depth in 33usize..200) {
        let text = format!("{}id eq 1{}", "(".repeat(depth), ")".repeat(depth));
        prop_assert_eq!(parse_filter(&text), Err(QueryError::TooDeep { position: 33, limit: 32 }));
    }

    #[test]
    fn too_deep_not(depth in 33usize..200) {
        let text = format!("{}id eq 1", "not ".repeat(depth));
        prop_assert_eq!(parse_filter(&text), Err(QueryError::TooDeep { position: 33 * 4, limit: 32 }));
    }

    #[test]
    fn too_many_nodes(count in 129usize..300) {
        // n comparisons and n - 1 `or`s: the 129th comparison makes node 257.
        let text = vec!["id eq 1"; count].join(" or ");
        prop_assume!(text.len() <= MAX_FILTER_BYTES);
        // Found at the token after it: the next `or`, or the end.
        let position = 129 * 7 + 128 * 4 + usize::from(count > 129);
        prop_assert_eq!(parse_filter(&text), Err(QueryError::TooManyNodes { position, limit: 256 }));
    }

    #[test]
    fn in_list_too_long((p, n) in prefix(), items in 101usize..300) {
        let list: Vec<String> = (0..items).map(|i| i.to_string()).collect();
        let text = format!("{p}width in ({})", list.join(","));
        prop_assume!(text.len() <= MAX_FILTER_BYTES);
        prop_assert_eq!(parse_filter(&text), Err(QueryError::InListTooLong { field: "width".into(), position: n, items, limit: 100 }));
    }

    #[test]
    fn lambda_variable((p, n) in prefix(), var in "[a-z]{1,5}", other in "[a-z]{1,5}") {
        prop_assume!(var != other);
        let text = format!("{p}tags/all({var}: {other} eq 'x')");
        let position = n + 11 + var.len();
        prop_assert_eq!(parse_filter(&text), Err(QueryError::LambdaVariable { variable: var, found: other, position }));
    }

    #[test]
    fn lambda_operator((p, n) in prefix(), op in select(vec!["ne", "gt", "ge", "lt", "le", "in", "has"])) {
        let text = format!("{p}tags/any(t:t {op} 'x')");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::LambdaOperator { found: op.to_string(), position: n + 13 }));
    }

    #[test]
    fn lambda_value((p, n) in prefix(), (literal, found) in select(vec![("5", "an integer"), ("null", "null"), ("2024-01-01", "a datetime")])) {
        let text = format!("{p}tags/any(t: t eq {literal})");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::LambdaValue { found, position: n + 14 }));
    }

    #[test]
    fn unknown_field((p, n) in prefix(), name in unknown_name(), literal_left in any::<bool>()) {
        let text = if literal_left { format!("{p}1 eq {name}") } else { format!("{p}{name} eq 1") };
        let position = if literal_left { n + 5 } else { n };
        let e = parse_filter(&text).unwrap_err();
        prop_assert!(matches!(&e, QueryError::UnknownField { name: got, position: at, .. } if *got == name && *at == position), "{e:?}");
    }

    #[test]
    fn type_mismatch((p, n) in prefix(), field in field_of(&[FieldType::Integer, FieldType::DateTime, FieldType::String, FieldType::NullableString, FieldType::Status]).prop_flat_map(|f| (Just(f), wrong_literal(f.field_type()))), op in select(vec!["eq", "ne"])) {
        let (field, literal) = field;
        let text = format!("{p}{field} {op} {literal}");
        let e = parse_filter(&text).unwrap_err();
        prop_assert!(matches!(&e, QueryError::TypeMismatch { field: f, position, .. } if *f == field && *position == n), "{text}: {e:?}");
        prop_assert!(e.to_string().contains(field.name()));
        prop_assert!(e.to_string().contains(field.field_type().describe()));
    }

    #[test]
    fn type_mismatch_two_fields((p, n) in prefix(), a in select(comparable_fields()), b in select(comparable_fields())) {
        prop_assume!(!a.field_type().comparable_with(b.field_type()));
        prop_assume!(a != Field::Status);
        let text = format!("{p}{a} lt {b}");
        let e = parse_filter(&text).unwrap_err();
        let position = n + a.name().len() + 4;
        prop_assert!(matches!(&e, QueryError::TypeMismatch { field, position: at, .. } if *field == a && *at == position), "{text}: {e:?}");
    }

    #[test]
    fn comparison_without_field((p, n) in prefix(), a in select(vec!["1", "'a'", "null", "2024-01-01"]), b in select(vec!["1", "'a'", "null"])) {
        let text = format!("{p}{a} ne {b}");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::ComparisonWithoutField { position: n }));
    }

    #[test]
    fn null_not_allowed((p, n) in prefix(), field in select(comparable_fields()), op in select(CmpOp::ALL.to_vec()), left in any::<bool>()) {
        prop_assume!(field.field_type() != FieldType::NullableString || op.is_ordering());
        prop_assume!(!(field == Field::Status && op.is_ordering()));
        let text = if left { format!("{p}null {} {field}", op.keyword()) } else { format!("{p}{field} {} null", op.keyword()) };
        let position = if left { n + 6 + op.keyword().len() } else { n };
        let operator = if left { op.flip() } else { op };
        prop_assert_eq!(parse_filter(&text), Err(QueryError::NullNotAllowed { field, operator, position }));
    }

    #[test]
    fn null_in_list((p, n) in prefix(), field in select(url_fields())) {
        let text = format!("{p}{field} in ('a', null)");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::NullInList { field, position: n }));
    }

    #[test]
    fn ordering_on_status((p, n) in prefix(), op in select(vec![CmpOp::Gt, CmpOp::Ge, CmpOp::Lt, CmpOp::Le]), code in select(vec!["'Ok'", "'Xx'", "1"])) {
        let text = format!("{p}status {} {code}", op.keyword());
        prop_assert_eq!(parse_filter(&text), Err(QueryError::OrderingOnStatus { operator: op, position: n }));
    }

    #[test]
    fn tags_outside_lambda((p, n) in prefix(), rest in select(vec![" eq 'red'", " ne null", " in ('a')", " gt 1"])) {
        let text = format!("{p}tags{rest}");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::TagsOutsideLambda { position: n }));
    }

    #[test]
    fn string_function_field((p, n) in prefix(), field in field_of(&[FieldType::Integer, FieldType::DateTime, FieldType::Status, FieldType::Tags])) {
        let text = format!("{p}endswith({field}, 'x')");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::StringFunctionField { function: StringFunction::EndsWith, field, position: n + 9 }));
    }

    #[test]
    fn string_function_argument((p, n) in prefix(), field in select(string_fields()), (arg, found) in select(vec![("5", "an integer"), ("null", "null"), ("fileType", "the field fileType"), ("2024-01-01", "a datetime")])) {
        let text = format!("{p}startswith({field},{arg})");
        prop_assert_eq!(parse_filter(&text), Err(QueryError::StringFunctionArgument { function: StringFunction::StartsWith, field, found: found.to_string(), position: n + 11 }));
    }

    #[test]
    fn orderby_errors(prefix in proptest::collection::vec(select(vec!["id", "numLinks desc", "reference asc"]), 0..1), spaces in " {0,2}") {
        let head = prefix.first().map(|p| format!("{p},{spaces}")).unwrap_or_default();
        let n = head.len();
        prop_assert_eq!(parse_orderby(&format!("{head}status desc asc")), Err(QueryError::OrderByTooManyWords { position: n + 12, found: "asc".into() }));
        prop_assert_eq!(parse_orderby(&format!("{head}width up")), Err(QueryError::OrderByDirection { position: n + 6, found: "up".into() }));
        prop_assert!(matches!(parse_orderby(&format!("{head}tags")), Err(QueryError::OrderByNotSortable { field: Field::Tags, position, .. }) if position == n), "{head}");
        prop_assert!(matches!(parse_orderby(&format!("{head}Width")), Err(QueryError::OrderByUnknownField { position, .. }) if position == n), "{head}");
        prop_assert!(matches!(parse_orderby(&format!("{head},x")), Err(QueryError::OrderByEmptyItem { position, .. }) if position == n), "{head}");
        prop_assert_eq!(parse_orderby(&format!("{head}height,height desc")), Err(QueryError::OrderByDuplicate { field: Field::Height, position: n + 7 }));
    }
}
