//! The compile stage: each segment as one SQL statement for DuckDB, Spark or PostgreSQL.
//!
//! Takes the checked program and gives, per segment, a query whose rows are the lines of
//! the file `segc run` writes for it: the key, the selected columns, the `group`. Segments
//! it reads (`in segment`, `combine`) come in as common table expressions, or, for a script
//! of views, as references to the views of those segments. A construct that an engine
//! cannot compute exactly is reported as `unsupported` rather than approximated.

mod casing;
mod dialect;
mod expr;

pub use casing::guarded;
pub use dialect::Dialect;

use crate::check::ir::{Amount, ExprKind, FromSource, Program, SegmentId, SetTree, Source};
use crate::check::ir::{Split, TypedExpr};
use crate::config::Config;
use crate::diag::{Code, Diagnostic};
use crate::output;
use crate::source::SourceMap;
use crate::syntax::ast::Direction;

use self::expr::{ExprWriter, Sql};

/// The SQL of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub name: String,
    /// The statement with its comment header, ending in `;` and a line break.
    pub sql: String,
}

/// How other segments are read from a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum References {
    /// Each segment a statement reads is a common table expression in it.
    Inline,
    /// Each segment is a view of its own name.
    Views,
}

/// One statement per segment of `ids`, in that order; or every construct that the dialect
/// cannot express exactly.
pub fn compile(
    program: &Program,
    config: &Config,
    sources: &SourceMap,
    dialect: Dialect,
    ids: &[SegmentId],
) -> Result<Vec<Statement>, Vec<Diagnostic>> {
    let mut compiler = Compiler::new(program, config, sources, dialect, References::Inline);
    let statements: Vec<Statement> = ids
        .iter()
        .map(|&id| Statement {
            name: program.segments[id].name.clone(),
            sql: compiler.statement(id),
        })
        .collect();
    compiler.finish(statements)
}

/// A script that creates or replaces one view per segment of `ids` and per segment they
/// read, each after the views it reads.
pub fn views(
    program: &Program,
    config: &Config,
    sources: &SourceMap,
    dialect: Dialect,
    ids: &[SegmentId],
) -> Result<String, Vec<Diagnostic>> {
    let mut compiler = Compiler::new(program, config, sources, dialect, References::Views);
    let mut script = format!(
        "-- Views of {} segments, compiled by segc for {}: each after the views it reads.\n",
        dependency_order(program, ids).len(),
        dialect
    );
    for id in dependency_order(program, ids) {
        let body = compiler.statement(id);
        let (header, query) = split_header(&body);
        let name = dialect.ident(&program.segments[id].name);
        script.push('\n');
        script.push_str(header);
        script.push_str(&format!("CREATE OR REPLACE VIEW {name} AS\n{query}"));
    }
    compiler.finish(script)
}

/// The comment lines at the top of a statement, and the rest.
fn split_header(statement: &str) -> (&str, &str) {
    let mut end = 0;
    for line in statement.split_inclusive('\n') {
        if !line.starts_with("--") {
            break;
        }
        end += line.len();
    }
    statement.split_at(end)
}

/// `ids` and every segment they read, each after what it reads, in program order within a
/// level.
fn dependency_order(program: &Program, ids: &[SegmentId]) -> Vec<SegmentId> {
    let mut needed = vec![false; program.segments.len()];
    let mut stack: Vec<SegmentId> = ids.to_vec();
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id], true) {
            stack.extend(program.segments[id].depends_on.iter().copied());
        }
    }
    let mut placed = vec![false; program.segments.len()];
    let mut order = Vec::new();
    loop {
        let ready: Vec<SegmentId> = (0..needed.len())
            .filter(|&id| needed[id] && !placed[id])
            .filter(|&id| program.segments[id].depends_on.iter().all(|&d| placed[d]))
            .collect();
        if ready.is_empty() {
            break;
        }
        for &id in &ready {
            placed[id] = true;
        }
        order.extend(ready);
    }
    order
}

struct Compiler<'a> {
    program: &'a Program,
    config: &'a Config,
    sources: &'a SourceMap,
    dialect: Dialect,
    references: References,
    problems: Vec<Diagnostic>,
}

impl<'a> Compiler<'a> {
    fn new(
        program: &'a Program,
        config: &'a Config,
        sources: &'a SourceMap,
        dialect: Dialect,
        references: References,
    ) -> Compiler<'a> {
        Compiler {
            program,
            config,
            sources,
            dialect,
            references,
            problems: Vec::new(),
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        let mut problems = self.problems;
        // A construct used in a segment that several statements read is reported once.
        let mut seen = Vec::new();
        problems.retain(|problem| {
            let key = (problem.message.clone(), problem.primary.clone());
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        });
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(problems)
        }
    }

    fn ident(&self, name: &str) -> String {
        self.dialect.ident(name)
    }

    /// The name of the key column in a segment's output.
    fn key_of(&self, id: SegmentId) -> &'a str {
        match &self.program.segments[id].source {
            Source::From(from) => &self.config.tables[from.table].key,
            Source::Combine(_) => &self.config.key,
        }
    }

    /// A statement: the header, the segments it reads, the query, `;`.
    fn statement(&mut self, id: SegmentId) -> String {
        let mut ctes: Vec<(String, String)> = Vec::new();
        if self.references == References::Inline {
            for dependency in dependency_order(self.program, &[id]) {
                if dependency != id {
                    let name = self.ident(&self.program.segments[dependency].name);
                    ctes.push((name, self.members(dependency)));
                }
            }
        }
        let query = self.output(id, &mut ctes);
        let mut sql = self.header(id);
        if !ctes.is_empty() {
            sql.push_str("WITH\n");
            let defined: Vec<String> = ctes
                .iter()
                .map(|(name, query)| format!("{name} AS (\n{}\n)", indent(query, 4)))
                .collect();
            sql.push_str(&defined.join(",\n"));
            sql.push('\n');
        }
        sql.push_str(&query);
        sql.push_str(";\n");
        sql
    }

    /// The comment lines that say what the statement computes.
    fn header(&self, id: SegmentId) -> String {
        let segment = &self.program.segments[id];
        let mut lines = vec![match &segment.title {
            Some(title) => format!("Segment `{}`: {title}", segment.name),
            None => format!("Segment `{}`", segment.name),
        }];
        if let Some(description) = &segment.description {
            lines.extend(description.lines().map(str::to_string));
        }
        lines.push(format!(
            "Defined in {}; compiled by segc for {}.",
            self.sources.name(segment.file),
            self.dialect
        ));
        if let Source::From(from) = &segment.source {
            if !from.select.is_empty() {
                lines.push(
                    "One row per qualifying row of each member. SQL tables have no row order, \
                     so the rows of one key come in any order (segc run keeps the file's)."
                        .to_string(),
                );
            }
        }
        let expects: Vec<String> = (0..segment.expects.len())
            .map(|index| output::expect_text(self.sources, self.program, id, index))
            .collect();
        if !expects.is_empty() {
            lines.push(format!(
                "Not checked here (segc run checks them): {}.",
                expects.join("; ")
            ));
        }
        let mut header = String::new();
        for line in lines {
            for part in line.split(['\n', '\r']) {
                for wrapped in wrap(part, 97) {
                    header.push_str(format!("-- {wrapped}").trim_end());
                    header.push('\n');
                }
            }
        }
        header
    }

    /// The query that gives a segment's members: one column, its key, each key once.
    fn members(&mut self, id: SegmentId) -> String {
        let segment = &self.program.segments[id];
        match &segment.source {
            Source::From(from) => self.table_members(id, from),
            Source::Combine(tree) => self.combine(tree),
        }
    }

    /// The query whose rows are the segment's output lines, in order.
    fn output(&mut self, id: SegmentId, ctes: &mut Vec<(String, String)>) -> String {
        let segment = &self.program.segments[id];
        let key = self.ident(self.key_of(id));
        let (rows, columns) = match &segment.source {
            Source::From(from) if from.select.is_empty() => {
                (self.table_members(id, from), vec![key.clone()])
            }
            Source::From(from) => {
                let columns: Vec<String> = std::iter::once(&self.config.tables[from.table].key)
                    .chain(&from.select)
                    .map(|column| self.ident(column))
                    .collect();
                let mut conditions = Vec::new();
                if let Some(filter) = &from.filter {
                    conditions.extend(self.segment_terms(id, filter));
                }
                if from.rank.is_some() {
                    let own = self.ident(&segment.name);
                    ctes.push((own.clone(), self.table_members(id, from)));
                    conditions.push(format!("{key} IN (SELECT {key} FROM {own})"));
                }
                let table = self.ident(&self.config.tables[from.table].name);
                let mut query = format!("SELECT {}\nFROM {table}", columns.join(", "));
                push_where(&mut query, &conditions);
                (query, columns)
            }
            Source::Combine(tree) => {
                let set = self.combine(tree);
                // Ordered outside: PostgreSQL orders a set operation (or a renamed key) only
                // by plain output names, and the byte order is an expression.
                let query = format!("SELECT {key}\nFROM (\n{}\n) AS members", indent(&set, 4));
                (query, vec![key.clone()])
            }
        };
        let order = format!("ORDER BY {key}{}", self.dialect.byte_order());
        match &segment.split {
            None => format!("{rows}\n{order}"),
            Some(split) => {
                let grouped = self.split(id, split, &key, &columns, &rows);
                format!("{grouped}\n{order}")
            }
        }
    }

    /// The members of a `from` segment.
    fn table_members(&mut self, id: SegmentId, from: &FromSource) -> String {
        let table_config = &self.config.tables[from.table];
        let key = self.ident(&table_config.key);
        let table = self.ident(&table_config.name);
        let conditions = match &from.filter {
            Some(filter) => self.segment_terms(id, filter),
            None => Vec::new(),
        };
        let Some(rank) = &from.rank else {
            // GROUP BY rather than DISTINCT: PostgreSQL orders a DISTINCT result only by
            // selected expressions, and the byte order is another expression.
            let mut query = format!("SELECT {key}\nFROM {table}");
            push_where(&mut query, &conditions);
            query.push_str(&format!("\nGROUP BY {key}"));
            return query;
        };

        let taken: Vec<&str> = std::iter::once(table_config.key.as_str()).collect();
        let value = self.ident(&helper("rank_value", &taken));
        let position = self.ident(&helper("rank_position", &taken));
        let count = self.ident(&helper("rank_count", &taken));
        let by = self.segment_expr(id, &rank.by).text;
        let best = if rank.direction == Direction::Top {
            "max"
        } else {
            "min"
        };
        // A key's value is its best over its qualifying rows; keys without one drop out.
        let mut values = format!("SELECT {key}, {best}({by}) AS {value}\nFROM {table}");
        if contains_subquery(&rank.by) {
            let mut inner = format!("SELECT {key}, {by} AS {value}\nFROM {table}");
            push_where(&mut inner, &conditions);
            values = format!(
                "SELECT {key}, {best}({value}) AS {value}\nFROM (\n{}\n) AS qualifying",
                indent(&inner, 4)
            );
        } else {
            push_where(&mut values, &conditions);
        }
        values.push_str(&format!("\nGROUP BY {key}"));

        let direction = if rank.direction == Direction::Top {
            " DESC"
        } else {
            ""
        };
        let byte_order = self.dialect.byte_order();
        // Ties are broken by key; with `with ties`, a key's rank counts only the keys with
        // a better value, so every key level with the last one kept is kept too.
        let numbering = if rank.with_ties {
            format!("rank() OVER (ORDER BY {value}{direction})")
        } else {
            format!("row_number() OVER (ORDER BY {value}{direction}, {key}{byte_order})")
        };
        let keep = match rank.amount {
            Amount::Count(n) => format!("{position} <= {}", n.min(i64::MAX as u64)),
            Amount::Percent {
                numerator,
                denominator,
            } => {
                // ceil(P × count / 100) keys, P = numerator / denominator: position p is
                // kept when p − 1 < P × count / 100, in integers.
                let (a, b) = reduce(numerator, denominator * 100);
                format!("({position} - 1) * {b} < {a} * {count}")
            }
        };
        format!(
            "SELECT {key}\nFROM (\n{}\n) AS ranked\nWHERE {keep}",
            indent(
                &format!(
                    "SELECT\n    {key},\n    {numbering} AS {position},\n    count(*) OVER () \
                     AS {count}\nFROM (\n{}\n) AS best\nWHERE {value} IS NOT NULL",
                    indent(&values, 4)
                ),
                4
            )
        )
    }

    fn segment_terms(&mut self, id: SegmentId, filter: &TypedExpr) -> Vec<String> {
        let mut terms = Vec::new();
        flatten_and(filter, &mut terms);
        terms
            .iter()
            .map(|term| {
                // Alternatives joined by `or` go one per line too, inside their parentheses.
                let mut alternatives = Vec::new();
                flatten_or(term, &mut alternatives);
                if alternatives.len() == 1 {
                    return self.segment_expr(id, term).at(expr::NOT);
                }
                let written: Vec<String> = alternatives
                    .iter()
                    .map(|alternative| self.segment_expr(id, alternative).at(expr::AND))
                    .collect();
                format!("({})", written.join("\n        OR "))
            })
            .collect()
    }

    /// An expression of segment `id`, with references to other segments resolved the way
    /// this compiler reads them.
    fn segment_expr(&mut self, id: SegmentId, expr: &TypedExpr) -> Sql {
        let program = self.program;
        let config = self.config;
        let dialect = self.dialect;
        let segment = &program.segments[id];
        let Source::From(from) = &segment.source else {
            return Sql {
                text: String::new(),
                precedence: expr::ATOM,
            };
        };
        let source = |other: SegmentId| -> (String, String) {
            let key = match &program.segments[other].source {
                Source::From(f) => &config.tables[f.table].key,
                Source::Combine(_) => &config.key,
            };
            (
                dialect.ident(&program.segments[other].name),
                dialect.ident(key),
            )
        };
        let mut writer = ExprWriter {
            dialect,
            config,
            table: &config.tables[from.table],
            file: segment.file,
            segment_source: &source,
            problems: &mut self.problems,
        };
        writer.expr(expr)
    }

    /// A set expression over other segments, each read by its key named as the project's.
    /// Set operations remove duplicates; a lone segment groups its keys itself.
    fn combine(&mut self, tree: &SetTree) -> String {
        match tree {
            SetTree::Segment(other) => {
                let key = self.ident(self.key_of(*other));
                format!("SELECT {}\nGROUP BY {key}", self.leaf(*other))
            }
            _ => self.set_operation(tree),
        }
    }

    fn leaf(&self, id: SegmentId) -> String {
        let key = self.key_of(id);
        let mut column = self.ident(key);
        if key != self.config.key {
            column = format!("{column} AS {}", self.ident(&self.config.key));
        }
        let name = self.ident(&self.program.segments[id].name);
        format!("{column} FROM {name}")
    }

    /// Every operand that is itself an operation goes in parentheses, so the grouping does
    /// not rest on an engine's precedence of `INTERSECT`.
    fn set_operation(&mut self, tree: &SetTree) -> String {
        let (operator, a, b) = match tree {
            SetTree::Segment(id) => return format!("SELECT {}", self.leaf(*id)),
            SetTree::Union(a, b) => ("UNION", a, b),
            SetTree::Intersect(a, b) => ("INTERSECT", a, b),
            SetTree::Except(a, b) => ("EXCEPT", a, b),
        };
        let operand = |compiler: &mut Self, side: &SetTree| match side {
            SetTree::Segment(_) => compiler.set_operation(side),
            _ => format!("(\n{}\n)", indent(&compiler.set_operation(side), 4)),
        };
        let (a, b) = (operand(self, a), operand(self, b));
        format!("{a}\n{operator}\n{b}")
    }

    /// The output rows with a `group` column, from the bucket of each key.
    fn split(
        &mut self,
        id: SegmentId,
        split: &Split,
        key: &str,
        columns: &[String],
        rows: &str,
    ) -> String {
        if !self.dialect.holds_string(&split.seed) {
            let segment = &self.program.segments[id];
            self.problems.push(
                Diagnostic::new(
                    Code::Unsupported,
                    format!(
                        "a split seed with the NUL character cannot be compiled exactly for `{}`",
                        self.dialect
                    ),
                )
                .at(segment.file, segment.span, "its seed has the NUL character")
                .help("remove the `\\u{0}` from the seed; the groups change with it"),
            );
        }
        let taken: Vec<&str> = columns.iter().map(String::as_str).collect();
        let bucket = self.ident(&helper("split_bucket", &taken));
        let seed = self.dialect.string(&format!("{}:", split.seed));
        let hashed = format!("md5({seed} || {key})");
        let first_eight = format!("substr({hashed}, 1, 8)");
        let number = match self.dialect {
            Dialect::DuckDb => format!("('0x' || {first_eight})::BIGINT"),
            Dialect::Postgres => format!("('x' || {first_eight})::bit(32)::bigint"),
            Dialect::Spark => format!("CAST(conv({first_eight}, 16, 10) AS BIGINT)"),
        };
        let mut cases = String::new();
        let last = split.groups.len().saturating_sub(1);
        for (index, (name, bound)) in split.groups.iter().enumerate() {
            let name = self.dialect.string(name);
            if index == last {
                cases.push_str(&format!("        ELSE {name}\n"));
            } else {
                // bucket × scale < bound, for a whole bucket, is bucket < ⌈bound / scale⌉.
                let threshold = bound.div_ceil(split.scale);
                cases.push_str(&format!(
                    "        WHEN {bucket} < {threshold} THEN {name}\n"
                ));
            }
        }
        let listed = columns.join(", ");
        format!(
            "SELECT\n    {listed},\n    CASE\n{cases}    END AS {}\nFROM (\n    SELECT\n        \
             {listed},\n        {number} AS {bucket}\n    FROM (\n{}\n    ) AS output_rows\n) \
             AS bucketed",
            self.ident("group"),
            indent(rows, 8)
        )
    }
}

/// `a AND b AND c` as `[a, b, c]`.
fn flatten_and<'e>(expr: &'e TypedExpr, terms: &mut Vec<&'e TypedExpr>) {
    if let ExprKind::And(a, b) = &expr.kind {
        flatten_and(a, terms);
        flatten_and(b, terms);
    } else {
        terms.push(expr);
    }
}

/// `a OR b OR c` as `[a, b, c]`.
fn flatten_or<'e>(expr: &'e TypedExpr, terms: &mut Vec<&'e TypedExpr>) {
    if let ExprKind::Or(a, b) = &expr.kind {
        flatten_or(a, terms);
        flatten_or(b, terms);
    } else {
        terms.push(expr);
    }
}

fn push_where(query: &mut String, conditions: &[String]) {
    if let Some((first, rest)) = conditions.split_first() {
        query.push_str(&format!("\nWHERE {first}"));
        for condition in rest {
            query.push_str(&format!("\n    AND {condition}"));
        }
    }
}

/// Whether an expression reads a subquery (a table aggregate or another segment), which
/// not every engine accepts inside an aggregate function.
fn contains_subquery(expr: &TypedExpr) -> bool {
    match &expr.kind {
        ExprKind::Aggregate { .. } | ExprKind::InSegment(_) => true,
        ExprKind::Column(_) | ExprKind::Const(_) => false,
        ExprKind::ToNumber(inner)
        | ExprKind::Neg(inner)
        | ExprKind::Not(inner)
        | ExprKind::InList { value: inner, .. }
        | ExprKind::IsNull { value: inner, .. }
        | ExprKind::Match { value: inner, .. } => contains_subquery(inner),
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b) => contains_subquery(a) || contains_subquery(b),
        ExprKind::Call(_, args) => args.iter().any(contains_subquery),
    }
}

/// A helper column's name, changed when a column of the data has it already.
fn helper(name: &str, taken: &[&str]) -> String {
    let mut name = name.to_string();
    while taken.contains(&name.as_str()) {
        name = format!("segc_{name}");
    }
    name
}

/// The fraction `a / b` in lowest terms.
fn reduce(a: u128, b: u128) -> (u128, u128) {
    fn gcd(a: u128, b: u128) -> u128 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let divisor = gcd(a, b).max(1);
    (a / divisor, b / divisor)
}

/// Breaks a line at spaces so that no part is longer than `width` characters, unless one
/// word is.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut parts = vec![String::new()];
    for word in line.split(' ') {
        let current = parts.last_mut().expect("starts with one part");
        if current.is_empty() || current.chars().count() + 1 + word.chars().count() <= width {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        } else {
            parts.push(word.to_string());
        }
    }
    parts
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_reduce_to_lowest_terms() {
        // 28% is 28 / 100 = 7 / 25; 12.5% is 125 / 1000 = 1 / 8.
        assert_eq!(reduce(28, 100), (7, 25));
        assert_eq!(reduce(125, 1000), (1, 8));
        assert_eq!(reduce(0, 100), (0, 1));
    }

    #[test]
    fn helper_names_step_aside_for_data_columns() {
        assert_eq!(helper("rank_value", &["CustomerId"]), "rank_value");
        assert_eq!(helper("rank_value", &["rank_value"]), "segc_rank_value");
    }
}
