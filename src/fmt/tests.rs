//! Formatter tests: hand-written input and the exact text it must become.
//!
//! Every expected text is also formatted again and must come back unchanged.

use super::{format_file, same_meaning, without_spans};
use crate::source::FileId;
use crate::syntax::ast::SegFile;
use crate::syntax::parse_file;

fn parse(text: &str) -> SegFile {
    match parse_file(FileId(0), text) {
        Ok(file) => file,
        Err(diagnostic) => panic!("{text:?} failed to parse: {}", diagnostic.message),
    }
}

fn format(text: &str) -> String {
    format_file(text, &parse(text))
}

/// Formats `input`, expects `expected`, and expects `expected` to be canonical already.
#[track_caller]
fn assert_formats(input: &str, expected: &str) {
    let once = format(input);
    assert_eq!(once, expected, "formatting\n{input}");
    assert_eq!(format(&once), once, "formatting the output again");
}

/// The comment texts of a file, in order.
fn comments(text: &str) -> Vec<String> {
    parse(text).comments.into_iter().map(|c| c.text).collect()
}

// ---------------------------------------------------------------------------------------
// Layout of segments and clauses
// ---------------------------------------------------------------------------------------

#[test]
fn clauses_come_in_the_order_of_the_clause_table() {
    let input = "\
segment s {
    expect size >= 1
    select a
    where x > 1
    from t
    split g 50%, h 50% seed \"k\"
    description \"d\"
    top 5 by x
    title \"T\"
    expect share <= 5%
}
";
    let expected = "\
segment s {
    title \"T\"
    description \"d\"
    from t
    where x > 1
    top 5 by x
    select a
    split g 50%, h 50% seed \"k\"
    expect size >= 1
    expect share <= 5%
}
";
    assert_formats(input, expected);
}

#[test]
fn combine_takes_the_place_of_from() {
    let input = "segment s { expect size <= 9 combine a union b title \"T\" }";
    let expected = "\
segment s {
    title \"T\"
    combine a union b
    expect size <= 9
}
";
    assert_formats(input, expected);
}

#[test]
fn spacing_is_canonical() {
    let input = "segment   s{from t where(a>=1)and b!=-2 or f( a ,b )in(1,2) \
                 top 20 % with ties by x*2 select a,b split g 50 %,h 50% seed\"x\" \
                 expect share between 1%and 2 %}";
    let expected = "\
segment s {
    from t
    where (a >= 1) and b != -2 or f(a, b) in (1, 2)
    top 20% with ties by x * 2
    select a, b
    split g 50%, h 50% seed \"x\"
    expect share between 1% and 2%
}
";
    assert_formats(input, expected);
}

#[test]
fn every_predicate_is_spaced_canonically() {
    let input = "\
segment s {
    from t
    where x   is   not   null and y is null and not   in   segment  other
    where s starts   with \"a\" or s ends with\"b\" or s contains\"c\"
    where x not  between 1and 2 and d between date\"2024-01-31\"and date \"2024-12-31\"
    where k not in( -1 , 2.50 ,\"z\",true,false,null ) and in  segment other
    bottom 3by -x+y/z-(-w)
}
";
    let expected = "\
segment s {
    from t
    where x is not null and y is null and not in segment other
    where s starts with \"a\" or s ends with \"b\" or s contains \"c\"
    where x not between 1 and 2 and d between date \"2024-01-31\" and date \"2024-12-31\"
    where k not in (-1, 2.50, \"z\", true, false, null) and in segment other
    bottom 3 by -x + y / z - (-w)
}
";
    assert_formats(input, expected);
}

#[test]
fn segments_are_separated_by_exactly_one_blank_line() {
    let input = "segment a { from t }\n\n\n\nsegment b { from t } segment c {\nfrom t\n\n}";
    let expected = "\
segment a {
    from t
}

segment b {
    from t
}

segment c {
    from t
}
";
    assert_formats(input, expected);
}

#[test]
fn empty_segments_and_empty_files() {
    assert_formats("segment a {}", "segment a {\n}\n");
    assert_formats("", "");
    assert_formats(" \n\t\n", "");
}

#[test]
fn line_ends_become_lf_and_a_byte_order_mark_stays() {
    let input = "\u{feff}segment s {\r\n  from t\r\n}\r\n";
    assert_formats(input, "\u{feff}segment s {\n    from t\n}\n");
}

// ---------------------------------------------------------------------------------------
// Literals, names and parentheses
// ---------------------------------------------------------------------------------------

#[test]
fn numbers_keep_their_spelling() {
    let input = "segment s { from t where a > 1_000 and b < 1e-3 and c = 0.70 and d != 5E+2 \
                 top 12.5 % by a }";
    let expected = "\
segment s {
    from t
    where a > 1_000 and b < 1e-3 and c = 0.70 and d != 5E+2
    top 12.5% by a
}
";
    assert_formats(input, expected);
}

#[test]
fn strings_are_escaped_canonically() {
    // `\u{e9}` is a visible `é` and is written as itself; the control character U+0001, a
    // zero-width space and a right-to-left override stay escaped, in lower-case hex.
    let input = r#"segment s {
    title "say \"hi\" \\ now\n\tthen"
    description "Caf\u{e9} \u{1} \u{200B} \u{202E}"
    from t
    where name = "\u{41}\u{42}" and d = date "2024-01-31"
}
"#;
    let expected = r#"segment s {
    title "say \"hi\" \\ now\n\tthen"
    description "Café \u{1} \u{200b} \u{202e}"
    from t
    where name = "AB" and d = date "2024-01-31"
}
"#;
    assert_formats(input, expected);
}

#[test]
fn backtick_names_stay_in_backticks() {
    // `and` and `Churn Score` need the backticks; `Score` does not, but was written so.
    let input = "segment s { from t where `Churn Score` > 0.5 and `and` and `Score` < 1 \
                 select `Churn Score`, Score, `and` }";
    let expected = "\
segment s {
    from t
    where `Churn Score` > 0.5 and `and` and `Score` < 1
    select `Churn Score`, Score, `and`
}
";
    assert_formats(input, expected);
}

#[test]
fn parentheses_are_kept_as_written() {
    // Redundant ones stay, needed ones stay, none are added.
    let input = "\
segment s {
    from t
    where ((a)) or (b and c) or not (d or e) and (f + g) * h > -(i) and not not j
    top 10 by (x - y) / (z)
}

segment u {
    combine ((a union b)) intersect (c except d) union e
}
";
    let expected = "\
segment s {
    from t
    where ((a)) or (b and c) or not (d or e) and (f + g) * h > -(i) and not not j
    top 10 by (x - y) / (z)
}

segment u {
    combine ((a union b)) intersect (c except d) union e
}
";
    assert_formats(input, expected);
    let (before, after) = (parse(input), parse(expected));
    assert_eq!(without_spans(&before), without_spans(&after));
}

// ---------------------------------------------------------------------------------------
// Long conditions
// ---------------------------------------------------------------------------------------

#[test]
fn a_condition_of_exactly_one_hundred_columns_stays_on_one_line() {
    // `    where A and ` is 16 columns.
    let name = "x".repeat(84);
    let input = format!("segment s {{ from t where A and {name} }}");
    let expected = format!("segment s {{\n    from t\n    where A and {name}\n}}\n");
    assert_eq!(expected.lines().nth(2).unwrap().chars().count(), 100);
    assert_formats(&input, &expected);
}

#[test]
fn a_condition_of_one_hundred_and_one_columns_is_broken() {
    let name = "x".repeat(85);
    let input = format!("segment s {{ from t where A and {name} }}");
    let expected = format!("segment s {{\n    from t\n    where A\n        and {name}\n}}\n");
    assert_formats(&input, &expected);
}

#[test]
fn long_conditions_break_before_each_top_level_operator() {
    // 128 columns on one line. `between … and …` is no place to break.
    let input = "segment s { from t where AlphaColumnName > 100 and BetaColumnName < 200 or \
                 GammaColumnName = \"some long text value\" and Delta between 1 and 2 }";
    let expected = "\
segment s {
    from t
    where AlphaColumnName > 100
        and BetaColumnName < 200
        or GammaColumnName = \"some long text value\"
        and Delta between 1 and 2
}
";
    assert_formats(input, expected);
}

#[test]
fn a_short_condition_over_several_lines_is_joined() {
    let input = "segment s {\n    from t\n    where a > 1\n        and b < 2\n}\n";
    let expected = "segment s {\n    from t\n    where a > 1 and b < 2\n}\n";
    assert_formats(input, expected);
}

#[test]
fn a_long_group_is_broken_inside_four_columns_deeper() {
    let input = "segment s { from t where A = 1 and (LongNameNumberOne > 1000 or \
                 LongNameNumberTwo > 2000 or LongNameNumberThree > 3000 or \
                 LongNameNumberFour > 4000) and not (LongNameNumberOne > 1000 or \
                 LongNameNumberTwo > 2000 or LongNameNumberThree > 3000 or \
                 LongNameNumberFour > 4000) }";
    let expected = "\
segment s {
    from t
    where A = 1
        and (LongNameNumberOne > 1000
            or LongNameNumberTwo > 2000
            or LongNameNumberThree > 3000
            or LongNameNumberFour > 4000)
        and not (LongNameNumberOne > 1000
            or LongNameNumberTwo > 2000
            or LongNameNumberThree > 3000
            or LongNameNumberFour > 4000)
}
";
    assert_formats(input, expected);
}

#[test]
fn a_group_that_fits_on_its_line_is_not_broken() {
    let input = "segment s { from t where AlphaColumnName > 100 and BetaColumnName < 200 and \
                 (GammaColumnName = \"some long text value\" or Delta between 1 and 2) }";
    let expected = "\
segment s {
    from t
    where AlphaColumnName > 100
        and BetaColumnName < 200
        and (GammaColumnName = \"some long text value\" or Delta between 1 and 2)
}
";
    assert_formats(input, expected);
}

#[test]
fn a_long_chain_does_not_overflow_the_stack() {
    let names: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let input = format!("segment s {{ from t where {} }}", names.join(" or "));
    let formatted = format(&input);
    let lines: Vec<&str> = formatted.lines().collect();
    assert_eq!(lines.len(), 5000 + 3);
    assert_eq!(lines[2], "    where c0");
    assert_eq!(lines[5001], "        or c4999");
}

// ---------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------

#[test]
fn comments_stay_where_they_were() {
    let input = "\
# File header.

# About a.
segment a {   # after the brace
        # on from
    from t       # trailing from
  # dangling at the end
}   # after a
# about b, no blank line before it
segment b {
  from u
}


# at the very end   
";
    let expected = "\
# File header.

# About a.
segment a { # after the brace
    # on from
    from t # trailing from
    # dangling at the end
} # after a

# about b, no blank line before it
segment b {
    from u
}

# at the very end
";
    assert_formats(input, expected);
}

#[test]
fn blank_lines_between_comments_above_a_segment_collapse_to_one() {
    let input = "\
segment a { from t }
# section


# about b

segment b { from t }
";
    let expected = "\
segment a {
    from t
}

# section

# about b

segment b {
    from t
}
";
    assert_formats(input, expected);
}

#[test]
fn comments_inside_a_segment_lose_their_blank_lines() {
    let input = "segment a {\n\n    # one\n\n    # two\n\n    from t\n\n}\n";
    let expected = "segment a {\n    # one\n    # two\n    from t\n}\n";
    assert_formats(input, expected);
}

#[test]
fn a_file_of_comments_only_keeps_them() {
    let input = "\n\n# one\n# two\n\n\n# three\n";
    assert_formats(input, "# one\n# two\n\n# three\n");
}

#[test]
fn comments_move_with_their_clause() {
    let input = "\
segment s {
    where x # about x
    # about the table
    from t
}
";
    let expected = "\
segment s {
    # about the table
    from t
    where x # about x
}
";
    assert_formats(input, expected);
}

#[test]
fn a_comment_inside_a_condition_keeps_it_broken_even_when_short() {
    let input = "\
segment s {
    from t
    where a > 1 # first
                   # before b
        and b < 2
        and c # third
}
";
    let expected = "\
segment s {
    from t
    where a > 1 # first
        # before b
        and b < 2
        and c # third
}
";
    assert_formats(input, expected);
    assert_eq!(comments(&format(input)), comments(input));
}

#[test]
fn a_comment_inside_a_group_breaks_the_group() {
    let input = "\
segment s {
    from t
    where a and (b # inside
        or c)
}
";
    let expected = "\
segment s {
    from t
    where a
        and (b # inside
            or c)
}
";
    assert_formats(input, expected);
}

#[test]
fn an_own_line_comment_inside_a_group_that_fits_ends_the_group_line() {
    let input = "\
segment s {
    from t
    where (a
        or b
        # after b
    ) and c
}
";
    // The comment lies after the group's last operator, so the group need not break; it
    // was inside the group, so it stays on the group's line rather than moving down.
    let expected = "\
segment s {
    from t
    where (a or b) # after b
        and c
}
";
    assert_formats(input, expected);
}

#[test]
fn an_own_line_comment_inside_a_clause_stays_with_that_clause() {
    let input = "\
segment s {
    from t
    where a and f(b,
        # about c
        c)
    select x
}
";
    let expected = "\
segment s {
    from t
    where a and f(b, c) # about c
    select x
}
";
    assert_formats(input, expected);
}

#[test]
fn a_comment_inside_an_unbreakable_expression_stays_with_its_clause_line() {
    // A call cannot be broken: its comments end that clause line, or go above it when the
    // line already ends in one.
    let input = "\
segment s {
    from t
    where coalesce(a, # why a
        b) = 1
    select a, # one
        b, # two
        c
    combine x union # three
        y
}
";
    let expected = "\
segment s {
    from t
    combine x union y # three
    where coalesce(a, b) = 1 # why a
    # one
    select a, b, c # two
}
";
    // `combine` is misplaced here on purpose: its comment moves with it.
    assert_formats(input, expected);
    let mut before = comments(input);
    before.sort();
    let mut after = comments(expected);
    after.sort();
    assert_eq!(after, before);
}

#[test]
fn a_comment_in_the_last_operand_of_a_broken_condition_stays_on_its_line() {
    let input = "\
segment s {
    from t
    where a # one
        and coalesce(b, # two
            c)
}
";
    let expected = "\
segment s {
    from t
    where a # one
        and coalesce(b, c) # two
}
";
    assert_formats(input, expected);
}

#[test]
fn comment_text_is_kept_but_trailing_blanks_go() {
    let input = "segment s {\n    from t #no space after the hash\t \n    #\n}\n";
    let expected = "segment s {\n    from t #no space after the hash\n    #\n}\n";
    assert_formats(input, expected);
}

// ---------------------------------------------------------------------------------------
// Comparing trees
// ---------------------------------------------------------------------------------------

#[test]
fn trees_without_spans_compare_what_was_written() {
    let tight = parse("segment s{from t where a>1_000}");
    let loose = parse("# note\nsegment s {\n    from t\n    where a > 1_000\n}\n");
    let other_spelling = parse("segment s { from t where a > 1000 }");
    assert_ne!(tight.segments, loose.segments);
    assert_eq!(
        without_spans(&tight.segments),
        without_spans(&loose.segments)
    );
    assert_ne!(
        without_spans(&tight.segments),
        without_spans(&other_spelling.segments)
    );
    assert!(!without_spans(&tight).contains("start:"));
}

#[test]
fn clause_order_does_not_change_the_meaning() {
    let written = parse("segment s { where a # w\n from t }");
    let canonical = parse("segment s {\n    from t\n    where a # w\n}\n");
    let other = parse("segment s {\n    from t\n    where b # w\n}\n");
    assert!(same_meaning(&written, &canonical));
    assert!(!same_meaning(&written, &other));
    let lost_comment = parse("segment s {\n    from t\n    where a\n}\n");
    assert!(!same_meaning(&written, &lost_comment));
}
