//! Syntax errors in words: pest's "expected one of these rules" turned into a diagnostic.
//!
//! Every grammar rule has a phrase in [`phrase`], an exhaustive match, so a rule cannot be
//! added to the grammar without saying how an error mentions it. A few common mistakes
//! (`==`, `&&`, a keyword used as a name, a missing `}`) are recognised from the text at
//! the error position and get a help line.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::parser::Rule;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Words that cannot be plain names.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "between",
    "union",
    "intersect",
    "except",
];

/// Every keyword, for telling a user that keywords are lowercase.
const KEYWORDS: &[&str] = &[
    "segment",
    "title",
    "description",
    "from",
    "combine",
    "where",
    "top",
    "bottom",
    "with",
    "ties",
    "by",
    "select",
    "split",
    "seed",
    "expect",
    "size",
    "share",
    "union",
    "intersect",
    "except",
    "and",
    "or",
    "not",
    "between",
    "in",
    "is",
    "null",
    "true",
    "false",
    "contains",
    "starts",
    "ends",
    "date",
];

/// How an error message names what a rule matches.
pub(super) fn phrase(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::file => "a segment file",
        Rule::segment => "a segment definition",
        Rule::clause => "a clause such as `where`",
        Rule::title_clause => "a `title` clause",
        Rule::description_clause => "a `description` clause",
        Rule::from_clause => "a `from` clause",
        Rule::combine_clause => "a `combine` clause",
        Rule::where_clause => "a `where` clause",
        Rule::rank_clause => "a `top` or `bottom` clause",
        Rule::with_ties => "`with ties`",
        Rule::select_clause => "a `select` clause",
        Rule::split_clause => "a `split` clause",
        Rule::split_group => "a group such as `control 10%`",
        Rule::expect_clause => "an `expect` clause",
        Rule::expect_between => "`between`",
        Rule::expect_compare => "a comparison such as `>= 100`",
        Rule::quantity => "a number such as `100` or `20%`",
        Rule::set_expr | Rule::set_term => "a segment name or `(`",
        Rule::set_paren => "a set expression in parentheses",
        Rule::expr | Rule::conjunction | Rule::negation | Rule::predicate => "an expression",
        Rule::in_segment => "`in segment`",
        Rule::predicate_tail => "a comparison such as `>=`",
        Rule::compare_tail => "a comparison such as `>= 0.7`",
        Rule::between_tail => "`between`",
        Rule::in_list_tail => "`in`",
        Rule::list_item => "a literal such as `\"a\"` or `-1`",
        Rule::negative_number => "a negative number",
        Rule::is_null_tail => "`is null`",
        Rule::match_tail | Rule::match_op => "`contains`, `starts with` or `ends with`",
        Rule::starts_with => "`starts with`",
        Rule::ends_with => "`ends with`",
        Rule::sum | Rule::product => "a value",
        Rule::unary => "a value such as a column, number or string",
        Rule::paren => "an expression in parentheses",
        Rule::call => "a function call",
        Rule::literal => "a literal such as `3`, `\"a\"` or `true`",
        Rule::date_literal => "a date such as `date \"2024-01-31\"`",
        Rule::number => "a number",
        Rule::string => "a string in double quotes",
        Rule::string_text => "more of the string",
        Rule::escape => "an escape such as `\\n`",
        Rule::column | Rule::column_name => "a column name",
        Rule::quoted_column => "a column name in backticks",
        Rule::quoted_text => "a name between the backticks",
        Rule::segment_name | Rule::segment_ref => "a segment name",
        Rule::table_name => "a table name",
        Rule::group_name => "a group name",
        Rule::function_name => "a function name",
        Rule::kw_segment => "`segment`",
        Rule::kw_title => "`title`",
        Rule::kw_description => "`description`",
        Rule::kw_from => "`from`",
        Rule::kw_combine => "`combine`",
        Rule::kw_where => "`where`",
        Rule::kw_top => "`top`",
        Rule::kw_bottom => "`bottom`",
        Rule::kw_with => "`with`",
        Rule::kw_ties => "`ties`",
        Rule::kw_by => "`by`",
        Rule::kw_select => "`select`",
        Rule::kw_split => "`split`",
        Rule::kw_seed => "`seed`",
        Rule::kw_expect => "`expect`",
        Rule::kw_size => "`size`",
        Rule::kw_share => "`share`",
        Rule::kw_union => "`union`",
        Rule::kw_intersect => "`intersect`",
        Rule::kw_except => "`except`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_between => "`between`",
        Rule::kw_in => "`in`",
        Rule::kw_is => "`is`",
        Rule::kw_null => "`null`",
        Rule::kw_true => "`true`",
        Rule::kw_false => "`false`",
        Rule::kw_contains => "`contains`",
        Rule::kw_starts => "`starts`",
        Rule::kw_ends => "`ends`",
        Rule::kw_date => "`date`",
        Rule::compare_op => "a comparison operator such as `>=`",
        Rule::add_op | Rule::mul_op => "an arithmetic operator such as `+`",
        Rule::minus => "`-`",
        Rule::percent => "`%`",
        Rule::open_brace => "`{`",
        Rule::close_brace => "`}`",
        Rule::open_paren => "`(`",
        Rule::close_paren => "`)`",
        Rule::comma => "`,`",
        Rule::closing_quote => "`\"`",
        Rule::closing_backtick => "a closing backtick",
        Rule::COMMENT => "a comment",
        // Silent rules never appear in errors; pest still gives them a variant.
        Rule::rank_direction => "`top` or `bottom`",
        Rule::metric => "`size` or `share`",
        Rule::set_op => "`union` or `except`",
        Rule::set_atom => "a segment name",
        Rule::primary => "a value",
        Rule::digits => "digits",
        Rule::ident => "a name",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::reserved => "a reserved word",
        Rule::WHITESPACE => "whitespace",
        Rule::bom => "a byte-order mark",
    }
}

/// Where a rule goes in an "expected …" list: what continues the construct at hand
/// first, then `and` and `or`, then what ends it or starts the next one.
fn list_position(rule: Rule) -> u8 {
    match rule {
        Rule::kw_and | Rule::kw_or => 1,
        Rule::clause | Rule::close_brace | Rule::segment | Rule::kw_segment => 2,
        Rule::EOI => 3,
        _ => 0,
    }
}

/// Rules at whose place a column may stand.
fn takes_column(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::expr
            | Rule::conjunction
            | Rule::negation
            | Rule::predicate
            | Rule::sum
            | Rule::product
            | Rule::unary
            | Rule::column
            | Rule::column_name
    )
}

/// Rules at whose place a plain name, never a backticked one, must stand.
fn takes_plain_name(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::segment_name | Rule::segment_ref | Rule::table_name | Rule::group_name
    )
}

/// The diagnostic for a failed parse.
pub(super) fn syntax_error(file: FileId, text: &str, error: &Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let found = Found::at(text, pos);
    let mut expected: Vec<Rule> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        // pest's only own custom errors are its call and stack limits.
        ErrorVariant::CustomError { .. } => return too_deep(file, text, pos),
    };
    // A comment may follow any token; saying so would only add noise.
    expected.retain(|&rule| rule != Rule::COMMENT);
    expected.sort_by_key(|&rule| list_position(rule));

    if expected.contains(&Rule::closing_quote) {
        return Diagnostic::new(Code::Syntax, "unterminated string")
            .at(
                file,
                found.span,
                format!("{} before the closing `\"`", found.ends_here()),
            )
            .help("end the string with `\"` on the same line; a line break is written `\\n`");
    }
    if expected.contains(&Rule::closing_backtick) {
        return Diagnostic::new(Code::Syntax, "unterminated name in backticks")
            .at(
                file,
                found.span,
                format!("{} before the closing backtick", found.ends_here()),
            )
            .help("end the name with a backtick on the same line");
    }

    let message = expected_message(&expected, &found);
    let diagnostic = Diagnostic::new(Code::Syntax, message).at(file, found.span, found.label());
    match help(text, pos, &expected, &found) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}

/// The diagnostic for a file nested deeper than the parser goes.
pub(super) fn too_deep(file: FileId, text: &str, pos: usize) -> Diagnostic {
    let found = Found::at(text, pos);
    Diagnostic::new(Code::Syntax, "the file is nested too deeply to parse")
        .at(file, found.span, "too deep here")
        .help("split the expression into simpler parts")
}

/// "expected a, b, or c", from the rules pest tried at the error position.
fn expected_message(expected: &[Rule], found: &Found<'_>) -> String {
    let mut phrases: Vec<&str> = Vec::new();
    for &rule in expected {
        let phrase = phrase(rule);
        if !phrases.contains(&phrase) {
            phrases.push(phrase);
        }
    }
    match phrases.as_slice() {
        [] => format!("unexpected {}", found.describe()),
        [one] => format!("expected {one}"),
        [init @ .., last] => format!("expected {}, or {last}", init.join(", ")),
    }
}

/// The token at the error position, as far as the error message needs it.
struct Found<'t> {
    /// The word, number or character at the position; empty at the end of the file.
    token: &'t str,
    span: Span,
}

impl<'t> Found<'t> {
    fn at(text: &'t str, pos: usize) -> Found<'t> {
        let rest = &text[pos..];
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let len = match rest.chars().next() {
            None => 0,
            Some(c) if is_word(c) => rest.find(|c: char| !is_word(c)).unwrap_or(rest.len()),
            Some(c) => c.len_utf8(),
        };
        Found {
            token: &rest[..len],
            span: Span::new(pos, pos + len),
        }
    }

    fn is_end_of_line(&self) -> bool {
        self.token.is_empty() || self.token == "\n" || self.token == "\r"
    }

    /// "the line ends" or "the file ends".
    fn ends_here(&self) -> &'static str {
        if self.token.is_empty() {
            "the file ends"
        } else {
            "the line ends"
        }
    }

    fn describe(&self) -> String {
        match self.token {
            "" => "end of file".to_string(),
            "\n" | "\r" => "end of line".to_string(),
            "`" => "`` ` ``".to_string(),
            token => format!("`{token}`"),
        }
    }

    fn label(&self) -> String {
        if self.is_end_of_line() {
            format!("{} here", self.ends_here())
        } else {
            format!("unexpected {}", self.describe())
        }
    }
}

/// A help line for a mistake recognisable from the text at the error position.
fn help(text: &str, pos: usize, expected: &[Rule], found: &Found<'_>) -> Option<String> {
    let before = &text[..pos];
    let rest = &text[pos..];
    let token = found.token;

    let help = if rest.starts_with("==") || (before.ends_with('=') && rest.starts_with('=')) {
        "write `=` for equality".to_string()
    } else if before.ends_with('<') && rest.starts_with('>') {
        "write `!=` for inequality".to_string()
    } else if before.ends_with('=') && (rest.starts_with('>') || rest.starts_with('<')) {
        format!("write `{}=` with the `=` last", &rest[..1])
    } else if rest.starts_with('&') {
        "write `and` instead of `&&`".to_string()
    } else if rest.starts_with('|') {
        "write `or` instead of `||`".to_string()
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        "write `not` to negate a condition".to_string()
    } else if rest.starts_with('\'') {
        "strings are written in double quotes: `\"…\"`".to_string()
    } else if rest.starts_with('_') && before.ends_with(|c: char| c.is_ascii_digit()) {
        "`_` may only stand between two digits, as in `1_000`".to_string()
    } else if let Some(name) = non_ascii_name(text, pos) {
        format!(
            "a name with characters other than ASCII letters, digits and `_` is written in \
             backticks: `` `{name}` ``"
        )
    } else if rest.starts_with('"') && expected.iter().any(|&rule| takes_plain_name(rule)) {
        "names are written without quotes".to_string()
    } else if RESERVED.contains(&token) && expected.iter().any(|&rule| takes_column(rule)) {
        format!("`{token}` is a keyword; write it in backticks: `` `{token}` ``")
    } else if RESERVED.contains(&token) && expected.iter().any(|&rule| takes_plain_name(rule)) {
        format!("`{token}` is a keyword and cannot be used as a name")
    } else if expected.contains(&Rule::kw_segment) && previous_word(before) == Some("in") {
        "`in segment NAME` tests membership of another segment; \
         a column named `in` is written in backticks: `` `in` ``"
            .to_string()
    } else if token != token.to_lowercase() && KEYWORDS.contains(&token.to_lowercase().as_str()) {
        format!("keywords are lowercase: write `{}`", token.to_lowercase())
    } else if expected.contains(&Rule::close_brace) && token.is_empty() {
        "end the segment with `}`".to_string()
    } else if expected.contains(&Rule::close_brace) && token == "segment" {
        "the segment before this one needs a closing `}`".to_string()
    } else if token == "with" && rest[4..].trim_start().starts_with("ties") {
        "`with ties` goes right after the amount: `top 20% with ties by CLVScore`".to_string()
    } else if let Some(op) =
        trailing_operator(before).filter(|_| expected.iter().any(|&rule| takes_column(rule)))
    {
        if op.starts_with(|c: char| c.is_ascii_alphabetic()) {
            format!("`{op}` needs a condition after it, such as `ChurnScore >= 0.7`")
        } else {
            format!("`{op}` needs a value after it, such as `0.5`, `\"text\"` or a column name")
        }
    } else {
        return None;
    };
    Some(help)
}

/// The operator or keyword just before the error position that still waits for its right
/// side: `Score >=` or `IsChurn and`.
fn trailing_operator(before: &str) -> Option<&'static str> {
    const OPERATORS: [&str; 12] = [
        ">=", "<=", "!=", "=", ">", "<", "+", "-", "*", "/", "(", ",",
    ];
    const WORDS: [&str; 5] = ["and", "or", "not", "where", "in"];
    let trimmed = before.trim_end();
    if let Some(op) = OPERATORS.iter().find(|op| trimmed.ends_with(**op)) {
        return Some(op);
    }
    let word = previous_word(before)?;
    WORDS.iter().find(|w| **w == word).copied()
}

/// The word just before the error position, past any whitespace.
fn previous_word(before: &str) -> Option<&str> {
    let trimmed = before.trim_end();
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
        .last()
        .map(|(i, _)| i)?;
    Some(&trimmed[start..])
}

/// The whole word around the error position when a letter outside ASCII stands there,
/// which a plain name cannot hold: `Größe`.
fn non_ascii_name(text: &str, pos: usize) -> Option<&str> {
    let in_word = |c: char| c.is_alphanumeric() || c == '_';
    let first = text[pos..].chars().next()?;
    if first.is_ascii() || !first.is_alphanumeric() {
        return None;
    }
    let start = text[..pos]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| in_word(c))
        .last()
        .map_or(pos, |(i, _)| i);
    let end = text[pos..]
        .find(|c: char| !in_word(c))
        .map_or(text.len(), |i| pos + i);
    Some(&text[start..end])
}
