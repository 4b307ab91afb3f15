//! Writes a generated project as files: segc.toml, one CSV per table and `.seg` files.
//!
//! Parentheses are added where the grammar's precedence needs them to keep the generated
//! tree's shape, on top of those the generator asked for; everything else about the
//! spelling (clause order, backticks, escapes, quoting of cells) varies with the style
//! the generator drew, and must not change what segc computes.

use std::fmt::Write as _;

use super::model::*;
use super::reference::PROJECT_KEY;

/// One file of a project: a path relative to the project folder and its bytes.
pub type File = (String, Vec<u8>);

pub fn table_name(world: usize, table: &Table) -> String {
    format!("w{world}_{}", table.name)
}

pub fn segment_name(world: usize, segment: &Segment) -> String {
    format!("w{world}_{}", segment.name)
}

/// Every file of the project.
pub fn project_files(project: &Project) -> Vec<File> {
    let mut files = vec![("segc.toml".to_string(), config(project).into_bytes())];
    for (w, world) in project.worlds.iter().enumerate() {
        for table in &world.tables {
            files.push((format!("data/{}.csv", table_name(w, table)), csv(table)));
        }
        // Segments of a world spread over two files in a nested folder: references
        // cross files, and the glob reaches any depth.
        for part in 0..2 {
            let text: String = world
                .segments
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == part)
                .map(|(_, segment)| segment_text(w, world, segment))
                .collect();
            if !text.is_empty() {
                files.push((format!("segments/w{w}/part{part}.seg"), text.into_bytes()));
            }
        }
    }
    files
}

// ---------------------------------------------------------------------------------------
// segc.toml
// ---------------------------------------------------------------------------------------

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn config(project: &Project) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "key = {}", toml_string(PROJECT_KEY));
    out.push_str("segments = [\"segments/**/*.seg\"]\noutput = \"out\"\n");
    let _ = writeln!(out, "as_of = {}", toml_string(&project.as_of));
    for (w, world) in project.worlds.iter().enumerate() {
        for table in &world.tables {
            let name = table_name(w, table);
            let _ = writeln!(out, "\n[tables.{name}]");
            let _ = writeln!(out, "path = \"data/{name}.csv\"");
            if table.key != PROJECT_KEY {
                let _ = writeln!(out, "key = {}", toml_string(&table.key));
            }
            if table.format.delimiter != b',' {
                let delimiter = (table.format.delimiter as char).to_string();
                let _ = writeln!(out, "delimiter = {}", toml_string(&delimiter));
            }
            if table.format.na_is_null {
                out.push_str("null_values = [\"\", \"NA\"]\n");
            }
            let declared: Vec<&Column> = table.columns.iter().filter(|c| c.declared).collect();
            if !declared.is_empty() {
                let _ = writeln!(out, "\n[tables.{name}.columns]");
                for column in declared {
                    let _ = writeln!(
                        out,
                        "{} = \"{}\"",
                        toml_string(&column.name),
                        column.ty.config_name()
                    );
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

fn csv_field(text: &str, force_quotes: bool, delimiter: u8) -> String {
    let needs = text.contains(['"', '\n', '\r']) || text.as_bytes().contains(&delimiter);
    if needs || force_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(table: &Table) -> Vec<u8> {
    let format = &table.format;
    let delimiter = (format.delimiter as char).to_string();
    let line_end = if format.crlf { "\r\n" } else { "\n" };
    // The key column sits at `key_position` among the others.
    let line = |key: String, mut fields: Vec<String>| {
        fields.insert(table.key_position, key);
        fields.join(&delimiter)
    };
    let mut lines = vec![line(
        csv_field(&table.key, false, format.delimiter),
        table
            .columns
            .iter()
            .map(|c| csv_field(&c.name, false, format.delimiter))
            .collect(),
    )];
    for row in &table.rows {
        let cells = row
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Null(NullSpelling::Empty) => String::new(),
                Cell::Null(NullSpelling::QuotedEmpty) => "\"\"".to_string(),
                Cell::Null(NullSpelling::Na) => "NA".to_string(),
                Cell::Text { text, quoted } => csv_field(text, *quoted, format.delimiter),
            })
            .collect();
        lines.push(line(csv_field(&row.key, false, format.delimiter), cells));
    }
    let mut text = lines.join(line_end);
    if format.final_newline {
        text.push_str(line_end);
    }
    let mut bytes = Vec::new();
    if format.bom {
        bytes.extend_from_slice("\u{feff}".as_bytes());
    }
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

// ---------------------------------------------------------------------------------------
// .seg
// ---------------------------------------------------------------------------------------

/// Words a plain name may not be; such columns go in backticks.
const KEYWORDS: &[&str] = &[
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
    "segment",
    "date",
    "contains",
    "starts",
    "ends",
    "with",
];

fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !KEYWORDS.contains(&name)
}

fn string_literal(text: &str, unicode_escapes: bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || (unicode_escapes && !c.is_ascii()) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Writer<'a> {
    world: usize,
    world_ref: &'a World,
    table: Option<&'a Table>,
    style: Style,
}

/// How tightly an expression binds: `or` 1, `and` 2, `not` 3, predicates 4, `+ -` 5,
/// `* /` 6, unary minus 7, everything that is whole by itself 8.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Not(..) => 3,
        Expr::Compare(..)
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::IsNull { .. }
        | Expr::Match { .. }
        | Expr::InSegment(_) => 4,
        Expr::Arith(ArithOp::Add | ArithOp::Sub, ..) => 5,
        Expr::Arith(ArithOp::Mul | ArithOp::Div, ..) => 6,
        Expr::Neg(_) => 7,
        _ => 8,
    }
}

impl Writer<'_> {
    fn column(&self, index: usize) -> String {
        let name = &self.table.expect("a column of a `from` segment").columns[index].name;
        if is_plain(name) && !self.style.backtick_all {
            name.clone()
        } else {
            format!("`{name}`")
        }
    }

    fn string(&self, text: &str) -> String {
        string_literal(text, self.style.unicode_escapes)
    }

    fn segment_ref(&self, index: usize) -> String {
        segment_name(self.world, &self.world_ref.segments[index])
    }

    fn literal(&self, lit: &Lit) -> String {
        match lit {
            Lit::Number(text) => text.clone(),
            Lit::Str(text) => self.string(text),
            Lit::Bool(b) => b.to_string(),
            Lit::Date(text) => format!("date \"{text}\""),
        }
    }

    /// `expr`, in parentheses when it binds looser than `at_least`.
    fn operand(&self, expr: &Expr, at_least: u8) -> String {
        let text = self.expr(expr);
        if precedence(expr) < at_least {
            format!("({text})")
        } else {
            text
        }
    }

    fn expr(&self, expr: &Expr) -> String {
        match expr {
            Expr::Column(c) => self.column(c.index),
            Expr::Lit(lit) => self.literal(lit),
            Expr::Paren(inner) => format!("({})", self.expr(inner)),
            Expr::Neg(inner) => format!("-{}", self.operand(inner, 7)),
            Expr::Arith(op, a, b) => {
                let (symbol, level) = match op {
                    ArithOp::Add => ("+", 5),
                    ArithOp::Sub => ("-", 5),
                    ArithOp::Mul => ("*", 6),
                    ArithOp::Div => ("/", 6),
                };
                // Left-associative: a right operand of the same level needs parentheses.
                format!(
                    "{} {symbol} {}",
                    self.operand(a, level),
                    self.operand(b, level + 1)
                )
            }
            Expr::Call(func, args) => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{}({})", func.name(), args.join(", "))
            }
            Expr::Round(inner, places) => format!("round({}, {places})", self.expr(inner)),
            Expr::Agg(agg, c) => match agg {
                Agg::Percentile(p) => format!("percentile({}, {p})", self.column(c.index)),
                _ => format!("{}({})", agg.name(), self.column(c.index)),
            },
            Expr::Compare(op, a, b) => {
                format!(
                    "{} {} {}",
                    self.operand(a, 5),
                    op.text(),
                    self.operand(b, 5)
                )
            }
            Expr::Between {
                value,
                low,
                high,
                negated,
            } => format!(
                "{} {}between {} and {}",
                self.operand(value, 5),
                if *negated { "not " } else { "" },
                self.operand(low, 5),
                self.operand(high, 5)
            ),
            Expr::InList {
                value,
                items,
                negated,
            } => {
                let items: Vec<String> = items
                    .iter()
                    .map(|item| {
                        let sign = if item.negative { "-" } else { "" };
                        format!("{sign}{}", self.literal(&item.lit))
                    })
                    .collect();
                format!(
                    "{} {}in ({})",
                    self.operand(value, 5),
                    if *negated { "not " } else { "" },
                    items.join(", ")
                )
            }
            Expr::IsNull { value, negated } => format!(
                "{} is {}null",
                self.operand(value, 5),
                if *negated { "not " } else { "" }
            ),
            Expr::Match { value, op, pattern } => {
                let word = match op {
                    MatchOp::Contains => "contains",
                    MatchOp::StartsWith => "starts with",
                    MatchOp::EndsWith => "ends with",
                };
                format!("{} {word} {}", self.operand(value, 5), self.string(pattern))
            }
            Expr::InSegment(s) => format!("in segment {}", self.segment_ref(*s)),
            Expr::Not(inner) => format!("not {}", self.operand(inner, 3)),
            Expr::And(a, b) => format!("{} and {}", self.operand(a, 2), self.operand(b, 3)),
            Expr::Or(a, b) => format!("{} or {}", self.operand(a, 1), self.operand(b, 2)),
        }
    }

    /// Set algebra: `union` and `except` at level 1, `intersect` at 2, names at 3.
    fn set(&self, expr: &SetExpr, at_least: u8) -> String {
        let (text, level) = match expr {
            SetExpr::Segment(s) => (self.segment_ref(*s), 3),
            SetExpr::Paren(inner) => (format!("({})", self.set(inner, 1)), 3),
            SetExpr::Union(a, b) => (format!("{} union {}", self.set(a, 1), self.set(b, 2)), 1),
            SetExpr::Except(a, b) => (format!("{} except {}", self.set(a, 1), self.set(b, 2)), 1),
            SetExpr::Intersect(a, b) => (
                format!("{} intersect {}", self.set(a, 2), self.set(b, 3)),
                2,
            ),
        };
        if level < at_least {
            format!("({text})")
        } else {
            text
        }
    }
}

fn amount(amount: &Amount) -> String {
    match (amount.percent, amount.spaced) {
        (false, _) => amount.text.clone(),
        (true, false) => format!("{}%", amount.text),
        (true, true) => format!("{} %", amount.text),
    }
}

/// An `expect` clause as written, which is also how summary.json names it.
pub fn expect_clause(expect: &Expect) -> String {
    let unit = if expect.share { "%" } else { "" };
    let metric = if expect.share { "share" } else { "size" };
    match &expect.test {
        ExpectTest::Compare(op, value) => format!("expect {metric} {} {value}{unit}", op.text()),
        ExpectTest::Between(low, high) => {
            format!("expect {metric} between {low}{unit} and {high}{unit}")
        }
    }
}

/// A small deterministic shuffle, so that the clause order follows the drawn seed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = ((seed >> 33) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// One segment definition, with its clauses in the order its style says.
pub fn segment_text(world: usize, world_ref: &World, segment: &Segment) -> String {
    let table = match &segment.source {
        Source::From(from) => Some(&world_ref.tables[from.table]),
        Source::Combine(_) => None,
    };
    let writer = Writer {
        world,
        world_ref,
        table,
        style: segment.style,
    };
    let mut clauses = Vec::new();
    if let Some(title) = &segment.title {
        clauses.push(format!("title {}", writer.string(title)));
    }
    if let Some(description) = &segment.description {
        clauses.push(format!("description {}", writer.string(description)));
    }
    match &segment.source {
        Source::Combine(set) => clauses.push(format!("combine {}", writer.set(set, 1))),
        Source::From(from) => {
            clauses.push(format!(
                "from {}",
                table_name(world, table.expect("a table"))
            ));
            if let Some(filter) = &from.filter {
                clauses.push(format!("where {}", writer.expr(filter)));
            }
            if let Some(rank) = &from.rank {
                clauses.push(format!(
                    "{} {}{} by {}",
                    if rank.top { "top" } else { "bottom" },
                    amount(&rank.amount),
                    if rank.with_ties { " with ties" } else { "" },
                    writer.expr(&rank.by)
                ));
            }
            if !from.select.is_empty() {
                let columns: Vec<String> = from.select.iter().map(|&c| writer.column(c)).collect();
                clauses.push(format!("select {}", columns.join(", ")));
            }
        }
    }
    if let Some(split) = &segment.split {
        let groups: Vec<String> = split
            .groups
            .iter()
            .map(|(name, share)| format!("{name} {share}%"))
            .collect();
        clauses.push(format!(
            "split {} seed {}",
            groups.join(", "),
            writer.string(&split.seed)
        ));
    }
    clauses.extend(segment.expects.iter().map(expect_clause));
    shuffle(&mut clauses, segment.style.clause_order);

    let mut out = String::new();
    if segment.style.comment {
        let _ = writeln!(out, "# {} (generated)", segment.name);
    }
    let _ = writeln!(out, "segment {} {{", segment_name(world, segment));
    for clause in clauses {
        let _ = writeln!(out, "    {clause}");
    }
    out.push_str("}\n\n");
    out
}
