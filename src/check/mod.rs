//! The check stage: names, clauses and types.
//!
//! Takes the parsed files and what is known of each table's columns, and gives a
//! [`ir::Program`] in which every name is resolved and every expression typed, together
//! with every problem found in every file: one run reports them all.

pub mod allow;
mod expr;
pub mod ir;
mod lint;
mod numbers;
pub mod schema;

pub use numbers::parse_decimal;
pub use schema::{header_schemas, TableSchema};

use std::collections::HashMap;

use crate::config::Config;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ClauseKind, Metric};

use self::expr::ExprChecker;
use self::ir::{Amount, Program, SegmentId, SetTree, Source};

/// What the check stage gives: a program when nothing is at error level in the checked
/// definitions, and every diagnostic found.
#[derive(Debug)]
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether any definition had an error; the program is then not fit to run.
    pub has_errors: bool,
}

/// Checks every segment of every file against the configuration and table schemas.
pub fn check(
    config: &Config,
    files: &[(FileId, ast::SegFile)],
    schemas: &[TableSchema],
) -> Checked {
    let mut checker = Checker {
        config,
        schemas,
        diagnostics: Vec::new(),
        names: HashMap::new(),
    };
    let definitions = checker.collect(files);
    let mut segments = Vec::with_capacity(definitions.len());
    let mut has_errors = false;
    for (file, segment) in &definitions {
        match checker.segment(*file, segment) {
            Some(checked) => segments.push(checked),
            None => {
                has_errors = true;
                segments.push(placeholder(*file, segment));
            }
        }
    }
    let mut program = Program { segments };
    if checker.cycles(&program, &definitions) {
        has_errors = true;
    }
    has_errors |= checker.diagnostics.iter().any(Diagnostic::is_error);
    if has_errors {
        program
            .segments
            .iter_mut()
            .for_each(|segment| segment.depends_on.clear());
    }
    Checked {
        program,
        diagnostics: checker.diagnostics,
        has_errors,
    }
}

/// Stands in for a segment whose definition has errors, so that ids stay stable.
fn placeholder(file: FileId, segment: &ast::Segment) -> ir::Segment {
    ir::Segment {
        name: segment.name.name.clone(),
        file,
        span: segment.span,
        title: None,
        description: None,
        source: Source::Combine(SetTree::Segment(usize::MAX)),
        split: None,
        expects: Vec::new(),
        depends_on: Vec::new(),
    }
}

struct Checker<'a> {
    config: &'a Config,
    schemas: &'a [TableSchema],
    diagnostics: Vec<Diagnostic>,
    /// Segment name to id and the span of its name.
    names: HashMap<String, (SegmentId, FileId, Span)>,
}

impl<'a> Checker<'a> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Every uniquely named segment, in file order; duplicates and clashes reported.
    fn collect<'f>(
        &mut self,
        files: &'f [(FileId, ast::SegFile)],
    ) -> Vec<(FileId, &'f ast::Segment)> {
        let mut definitions = Vec::new();
        for (file, seg_file) in files {
            for segment in &seg_file.segments {
                let name = &segment.name;
                if let Some(&(_, first_file, first_span)) = self.names.get(&name.name) {
                    self.error(
                        Diagnostic::new(
                            Code::DuplicateSegment,
                            format!("segment `{}` is defined twice", name.name),
                        )
                        .at(*file, name.span, "defined again here")
                        .related(first_file, first_span, "first defined here")
                        .help("segment names are unique across the project; rename one"),
                    );
                    continue;
                }
                if let Some((_, table)) = self.config.table(&name.name) {
                    let span = table.name_span;
                    self.error(
                        Diagnostic::new(
                            Code::NameClash,
                            format!("segment `{}` has the name of a table", name.name),
                        )
                        .at(*file, name.span, "also a table in segc.toml")
                        .related(self.config.file, span, "the table is defined here")
                        .help("segment names differ from table names; rename the segment"),
                    );
                }
                self.names
                    .insert(name.name.clone(), (definitions.len(), *file, name.span));
                definitions.push((*file, segment));
            }
        }
        definitions
    }

    fn segment(&mut self, file: FileId, segment: &ast::Segment) -> Option<ir::Segment> {
        let before = self.diagnostics.len();
        let clauses = self.clauses(file, segment);
        let mut depends_on = Vec::new();
        let source = match (&clauses.from, &clauses.combine) {
            (Some(table), None) => self.draw_from(file, table, &clauses, &mut depends_on),
            (None, Some(set)) => {
                let tree = self.set_tree(file, set, &mut depends_on);
                tree.map(Source::Combine)
            }
            _ => None,
        };
        let split = clauses.split.and_then(|split| self.split(file, split));
        let expects = clauses
            .expects
            .iter()
            .filter_map(|e| self.expect(file, e))
            .collect();
        let clean = !self.diagnostics[before..].iter().any(Diagnostic::is_error);
        if let (true, Some(Source::From(from))) = (clean, &source) {
            if let Some(filter) = &from.filter {
                let table = &self.config.tables[from.table];
                self.diagnostics
                    .extend(lint::condition(file, table, filter));
            }
        }
        Some(ir::Segment {
            name: segment.name.name.clone(),
            file,
            span: segment.span,
            title: clauses.title.map(|t| t.value.clone()),
            description: clauses.description.map(|d| d.value.clone()),
            source: source?,
            split: split.flatten(),
            expects,
            depends_on,
        })
        .filter(|_| clean)
    }

    /// Sorts the clauses by kind, reporting repeats and conflicts.
    fn clauses<'s>(&mut self, file: FileId, segment: &'s ast::Segment) -> Clauses<'s> {
        let mut clauses = Clauses::default();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for clause in &segment.clauses {
            let keyword = clause_keyword(&clause.kind);
            if !matches!(clause.kind, ClauseKind::Expect(_)) {
                let group = match clause.kind {
                    ClauseKind::From(_) | ClauseKind::Combine(_) => "source",
                    ClauseKind::Rank(_) => "rank",
                    _ => keyword,
                };
                if let Some(&first) = seen.get(group) {
                    let message = if group == "source" {
                        "a segment takes exactly one of `from` and `combine`".to_string()
                    } else if group == "rank" {
                        "a segment takes at most one `top` or `bottom`".to_string()
                    } else {
                        format!(
                            "`{keyword}` appears twice in segment `{}`",
                            segment.name.name
                        )
                    };
                    self.error(
                        Diagnostic::new(Code::ClauseConflict, message)
                            .at(file, clause.keyword, "repeated here")
                            .related(file, first, "first given here")
                            .help(format!("keep one `{keyword}` clause")),
                    );
                    continue;
                }
                seen.insert(group, clause.keyword);
            }
            match &clause.kind {
                ClauseKind::Title(title) => clauses.title = Some(title),
                ClauseKind::Description(text) => clauses.description = Some(text),
                ClauseKind::From(table) => clauses.from = Some(table),
                ClauseKind::Combine(set) => clauses.combine = Some(set),
                ClauseKind::Where(condition) => clauses.filter = Some((condition, clause.keyword)),
                ClauseKind::Rank(rank) => clauses.rank = Some((rank, clause.keyword)),
                ClauseKind::Select(columns) => clauses.select = Some((columns, clause.keyword)),
                ClauseKind::Split(split) => clauses.split = Some(split),
                ClauseKind::Expect(expect) => clauses.expects.push((expect, clause.span)),
            }
        }
        if clauses.from.is_none() && clauses.combine.is_none() {
            self.error(
                Diagnostic::new(
                    Code::ClauseConflict,
                    format!(
                        "segment `{}` has neither `from` nor `combine`",
                        segment.name.name
                    ),
                )
                .at(file, segment.name.span, "no source of members")
                .help("add `from TABLE` or `combine SEGMENT union SEGMENT`"),
            );
        }
        if clauses.combine.is_some() {
            let only_from = [clauses.filter.map(|f| f.1), clauses.rank.map(|r| r.1)]
                .into_iter()
                .chain([clauses.select.map(|s| s.1)])
                .flatten();
            for keyword in only_from.collect::<Vec<_>>() {
                self.error(
                    Diagnostic::new(
                        Code::ClauseConflict,
                        "this clause works only with `from`, not with `combine`",
                    )
                    .at(file, keyword, "not allowed with `combine`")
                    .help(
                        "filter the segments being combined instead, or draw this one `from` \
                         a table with `in segment` conditions",
                    ),
                );
            }
        }
        clauses
    }

    fn draw_from(
        &mut self,
        file: FileId,
        table: &ast::Ident,
        clauses: &Clauses<'_>,
        depends_on: &mut Vec<SegmentId>,
    ) -> Option<Source> {
        let Some((table_index, table_config)) = self.config.table(&table.name) else {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownTable,
                format!("unknown table `{}`", table.name),
            )
            .at(file, table.span, "not a table in segc.toml");
            let names = self.config.tables.iter().map(|t| t.name.as_str());
            diagnostic = diagnostic.help(did_you_mean(&table.name, names).unwrap_or_else(|| {
                format!("declare it in segc.toml under `[tables.{}]`", table.name)
            }));
            self.error(diagnostic);
            return None;
        };
        let schema = &self.schemas[table_index];
        let mut exprs = ExprChecker {
            config: self.config,
            file,
            table: table_config,
            schema,
            names: &self.names,
            diagnostics: &mut self.diagnostics,
            depends_on,
        };
        let filter = clauses
            .filter
            .map(|(condition, _)| exprs.condition(condition, "where"));
        let rank = clauses.rank.and_then(|(rank, _)| exprs.rank(rank));
        let select = clauses
            .select
            .map(|(columns, keyword)| exprs.select(columns, keyword))
            .unwrap_or_default();
        Some(Source::From(ir::FromSource {
            table: table_index,
            filter,
            rank,
            select,
        }))
    }

    fn set_tree(
        &mut self,
        file: FileId,
        set: &ast::SetExpr,
        depends_on: &mut Vec<SegmentId>,
    ) -> Option<SetTree> {
        match &set.kind {
            ast::SetExprKind::Segment(name) => {
                let target = expr::resolve_segment(&self.names, file, name, &mut self.diagnostics)?;
                if !depends_on.contains(&target) {
                    depends_on.push(target);
                }
                Some(SetTree::Segment(target))
            }
            ast::SetExprKind::Paren(inner) => self.set_tree(file, inner, depends_on),
            ast::SetExprKind::Binary { op, lhs, rhs, .. } => {
                let lhs = self.set_tree(file, lhs, depends_on);
                let rhs = self.set_tree(file, rhs, depends_on);
                let (lhs, rhs) = (Box::new(lhs?), Box::new(rhs?));
                Some(match op {
                    ast::SetOp::Union => SetTree::Union(lhs, rhs),
                    ast::SetOp::Intersect => SetTree::Intersect(lhs, rhs),
                    ast::SetOp::Except => SetTree::Except(lhs, rhs),
                })
            }
        }
    }

    fn split(&mut self, file: FileId, split: &ast::SplitClause) -> Option<Option<ir::Split>> {
        let mut shares = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        for group in &split.groups {
            if let Some(&first) = names.get(group.name.name.as_str()) {
                self.error(
                    Diagnostic::new(
                        Code::ClauseConflict,
                        format!("group `{}` appears twice in `split`", group.name.name),
                    )
                    .at(file, group.name.span, "repeated here")
                    .related(file, first, "first given here"),
                );
                ok = false;
            }
            names.insert(&group.name.name, group.name.span);
            match self.percent(file, &group.share, "a split share") {
                Some((numerator, scale)) if numerator > 0 => shares.push((numerator, scale)),
                Some(_) => {
                    self.error(
                        Diagnostic::new(Code::InvalidAmount, "a split group must have a share")
                            .at(file, group.share.span, "0% takes no one")
                            .help("remove the group, or give it a share above 0%"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        // Bring every share to one scale, so that the sum and the bounds are exact.
        let scale = shares.iter().map(|&(_, s)| s).max().unwrap_or(0);
        let scaled: Vec<u128> = shares
            .iter()
            .map(|&(n, s)| n * 10u128.pow(scale - s))
            .collect();
        let total: u128 = scaled.iter().sum();
        let hundred = 100 * 10u128.pow(scale);
        if total != hundred {
            let span = split.groups.first().map(|g| g.span).unwrap_or_default();
            let span = split.groups.last().map_or(span, |g| span.to(g.span));
            let sum = format_scaled(total, scale);
            self.error(
                Diagnostic::new(
                    Code::InvalidAmount,
                    format!("split shares add up to {sum}%, not 100%"),
                )
                .at(file, span, "these shares")
                .help("every member goes to exactly one group, so the shares must total 100%"),
            );
            return None;
        }
        let mut bound = 0u128;
        let groups = split
            .groups
            .iter()
            .zip(&scaled)
            .map(|(group, share)| {
                bound += share;
                (group.name.name.clone(), bound << 32)
            })
            .collect();
        Some(Some(ir::Split {
            seed: split.seed.value.clone(),
            groups,
            scale: hundred,
        }))
    }

    /// A percentage as an exact decimal `(digits, scale)`, between 0 and 100.
    fn percent(
        &mut self,
        file: FileId,
        quantity: &ast::Quantity,
        what: &str,
    ) -> Option<(u128, u32)> {
        if !quantity.percent {
            self.error(
                Diagnostic::new(Code::InvalidAmount, format!("{what} is a percentage"))
                    .at(file, quantity.span, "missing `%`")
                    .help(format!("write `{}%`", quantity.number.text)),
            );
            return None;
        }
        let Some((digits, scale)) = parse_decimal(&quantity.number.text) else {
            self.error(
                Diagnostic::new(Code::InvalidAmount, format!("{what} is out of range")).at(
                    file,
                    quantity.span,
                    "too many digits",
                ),
            );
            return None;
        };
        if digits > 100 * 10u128.pow(scale) {
            self.error(
                Diagnostic::new(Code::InvalidAmount, format!("{what} cannot exceed 100%"))
                    .at(file, quantity.span, "more than 100%")
                    .help("a percentage of keys is between 0% and 100%"),
            );
            return None;
        }
        Some((digits, scale))
    }

    fn expect(
        &mut self,
        file: FileId,
        (expect, span): &(&ast::Expectation, Span),
    ) -> Option<ir::Expect> {
        let value = |checker: &mut Self, quantity: &ast::Quantity| -> Option<f64> {
            match expect.metric {
                Metric::Size => {
                    if quantity.percent {
                        checker.error(
                            Diagnostic::new(Code::InvalidAmount, "a size is a count, not a share")
                                .at(file, quantity.span, "a percentage")
                                .help("use `expect share …` for a percentage of the keys"),
                        );
                        return None;
                    }
                    let number = quantity.number.value();
                    if number.fract() != 0.0 || number < 0.0 {
                        checker.error(
                            Diagnostic::new(Code::InvalidAmount, "a size is a whole number").at(
                                file,
                                quantity.span,
                                "not a count",
                            ),
                        );
                        return None;
                    }
                    Some(number)
                }
                Metric::Share => {
                    let (digits, scale) = checker.percent(file, quantity, "a share")?;
                    Some(digits as f64 / 10f64.powi(scale as i32))
                }
            }
        };
        let test = match &expect.test {
            ast::ExpectTest::Compare {
                op,
                value: quantity,
                ..
            } => ir::ExpectTest::Compare(*op, value(self, quantity)?),
            ast::ExpectTest::Between { low, high } => {
                let (low_value, high_value) = (value(self, low), value(self, high));
                let (low_value, high_value) = (low_value?, high_value?);
                if low_value > high_value {
                    self.error(
                        Diagnostic::new(Code::InvalidAmount, "the range is empty")
                            .at(file, low.span.to(high.span), "low bound above high bound")
                            .help(format!(
                                "write `between {} and {}`",
                                high.number.text, low.number.text
                            )),
                    );
                    return None;
                }
                ir::ExpectTest::Between(low_value, high_value)
            }
        };
        Some(ir::Expect {
            metric: expect.metric,
            test,
            span: *span,
        })
    }

    /// Reports every cycle among segment references; true when there was one.
    fn cycles(&mut self, program: &Program, definitions: &[(FileId, &ast::Segment)]) -> bool {
        let components = strongly_connected(program);
        let mut found = false;
        for component in components {
            let looped = component.len() > 1
                || program.segments[component[0]]
                    .depends_on
                    .contains(&component[0]);
            if !looped {
                continue;
            }
            found = true;
            let mut members = component.clone();
            members.sort_unstable();
            let names: Vec<String> = members
                .iter()
                .map(|&id| format!("`{}`", program.segments[id].name))
                .collect();
            let first = members[0];
            let (file, segment) = definitions[first];
            let mut diagnostic = Diagnostic::new(
                Code::Cycle,
                if members.len() == 1 {
                    format!("segment {} refers to itself", names[0])
                } else {
                    format!(
                        "segments {} refer to each other in a cycle",
                        names.join(", ")
                    )
                },
            )
            .at(file, segment.name.span, "this segment is on the cycle")
            .help("a segment cannot depend on itself, directly or through others; break the cycle");
            for &other in &members[1..] {
                let (other_file, other_segment) = definitions[other];
                diagnostic = diagnostic.related(
                    other_file,
                    other_segment.name.span,
                    format!("`{}` is on the cycle too", other_segment.name.name),
                );
            }
            self.error(diagnostic);
        }
        found
    }
}

fn format_scaled(value: u128, scale: u32) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let divisor = 10u128.pow(scale);
    let fraction = format!("{:0width$}", value % divisor, width = scale as usize);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        (value / divisor).to_string()
    } else {
        format!("{}.{fraction}", value / divisor)
    }
}

/// Tarjan's algorithm over `depends_on`, iteratively, so deep chains cannot overflow the
/// stack.
fn strongly_connected(program: &Program) -> Vec<Vec<SegmentId>> {
    let count = program.segments.len();
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..count {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(SegmentId, usize)> = vec![(root, 0)];
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if *edge == 0 && index[node] == usize::MAX {
                index[node] = next;
                low[node] = next;
                next += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            let edges = &program.segments[node].depends_on;
            if let Some(&target) = edges.get(*edge) {
                *edge += 1;
                if target >= count {
                    continue;
                }
                if index[target] == usize::MAX {
                    work.push((target, 0));
                } else if on_stack[target] {
                    low[node] = low[node].min(index[target]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[derive(Default)]
struct Clauses<'s> {
    title: Option<&'s ast::StringLit>,
    description: Option<&'s ast::StringLit>,
    from: Option<&'s ast::Ident>,
    combine: Option<&'s ast::SetExpr>,
    filter: Option<(&'s ast::Expr, Span)>,
    rank: Option<(&'s ast::RankClause, Span)>,
    select: Option<(&'s Vec<ast::Ident>, Span)>,
    split: Option<&'s ast::SplitClause>,
    expects: Vec<(&'s ast::Expectation, Span)>,
}

fn clause_keyword(kind: &ClauseKind) -> &'static str {
    match kind {
        ClauseKind::Title(_) => "title",
        ClauseKind::Description(_) => "description",
        ClauseKind::From(_) => "from",
        ClauseKind::Combine(_) => "combine",
        ClauseKind::Where(_) => "where",
        ClauseKind::Rank(rank) => match rank.direction {
            ast::Direction::Top => "top",
            ast::Direction::Bottom => "bottom",
        },
        ClauseKind::Select(_) => "select",
        ClauseKind::Split(_) => "split",
        ClauseKind::Expect(_) => "expect",
    }
}

/// Exact amount of a `top`/`bottom` clause.
pub(crate) fn amount(quantity: &ast::Quantity) -> Result<Amount, &'static str> {
    let (digits, scale) = parse_decimal(&quantity.number.text).ok_or("too many digits")?;
    if quantity.percent {
        if digits == 0 {
            return Err("0% keeps no one");
        }
        if digits > 100 * 10u128.pow(scale) {
            return Err("more than 100%");
        }
        Ok(Amount::Percent {
            numerator: digits,
            denominator: 10u128.pow(scale),
        })
    } else {
        if scale != 0 {
            return Err("a count is a whole number");
        }
        if digits == 0 {
            return Err("0 keeps no one");
        }
        Ok(Amount::Count(
            u64::try_from(digits).map_err(|_| "too large")?,
        ))
    }
}
