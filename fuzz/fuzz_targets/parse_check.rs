//! Arbitrary text as `.seg` files, through the stages `segc check` runs: parse, check (with
//! its lints), allow comments, then every report format. A program that checks clean is
//! then planned, evaluated and built into outputs in memory, as `segc run` would.
//!
//! The project is fixed: the tables of the sample project and of the test fixtures, read
//! once from the repository, so that the seed corpus (every `.seg` file of the repository)
//! checks and evaluates as it does in the tests. A NUL byte starts another file, so that
//! duplicates and references across files are reached too. Beyond "no panic", every label
//! of every finding must lie inside its source on character boundaries, a program that
//! checks clean must plan, and results must be consistent.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use segc::check::schema::{HeaderMode, TableInputs};
use segc::check::{self, TableSchema};
use segc::config::{self, Config};
use segc::data::{self, Table};
use segc::diag::render::{self, Format, HumanStyle, Options};
use segc::diag::{Diagnostic, Level};
use segc::output;
use segc::plan;
use segc::source::SourceMap;
use segc::syntax;

/// Paths are relative to the repository, which is the project folder.
const CONFIG: &str = r#"
key = "CustomerId"
as_of = "2024-06-30"

[tables.churn]
path = "samples/churn.csv"
model = "transactional-churn"

[tables.churn.columns]
ZipCode = "string"
LastPurchaseDate = "date"

[tables.subscriptions]
path = "samples/subscriptions.csv"
model = "subscription-churn"

[tables.subscriptions.columns]
MonthlyFee = "number"
RenewalDate = "date"
AutoRenew = "bool"

[tables.clv]
path = "samples/clv.csv"
model = "customer-lifetime-value"

[tables.clv.columns]
TenureMonths = "integer"

[tables.recommendations]
path = "samples/recommendations.csv"
model = "product-recommendation"

[tables.campaigns]
path = "samples/campaigns.csv"

[tables.recs]
path = "tests/fixtures/recommendations/recs.csv"
model = "product-recommendation"

[tables.t]
path = "tests/fixtures/nulls/t.csv"

[tables.v]
path = "tests/fixtures/ranking/v.csv"

[tables.p]
path = "tests/fixtures/ranking/p.csv"

[tables.s]
path = "tests/fixtures/sets/s.csv"

[tables.people]
path = "tests/fixtures/split/people.csv"

# No file: only its declared columns are known, and no segment using it can run.
[tables.extra]
path = "tests/fixtures/none.csv"

[tables.extra.columns]
Amount = "number"

[lints]
float-equality = "deny"
"#;

/// More files than this in one input add nothing the first few do not reach.
const MAX_FILES: usize = 3;

struct Project {
    config: Config,
    /// Each table's columns with the types the loader settled, as `segc run` checks them.
    schemas: Vec<TableSchema>,
    /// Every table with a file, loaded whole with all its columns.
    tables: Vec<Option<Table>>,
}

fn project() -> &'static Project {
    static PROJECT: OnceLock<Project> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sources = SourceMap::new();
        let file = sources.add("segc.toml", CONFIG);
        let config = config::parse(&root, file, &sources).expect("the fuzz segc.toml is valid");
        let headers: Vec<TableSchema> =
            check::header_schemas(&config, HeaderMode::Sample(10_000), &sources)
                .into_iter()
                .map(|(schema, _)| schema)
                .collect();
        let mut tables = Vec::new();
        let mut schemas = Vec::new();
        for (table, header) in config.tables.iter().zip(headers) {
            let mut schema = header;
            if !schema.available {
                tables.push(None);
                schemas.push(schema);
                continue;
            }
            let columns: Vec<String> = schema
                .names()
                .filter(|name| *name != table.key)
                .map(str::to_string)
                .collect();
            let inputs = TableInputs::new(&config, table);
            let loaded = data::load_table(&inputs.options(table, &columns), &sources)
                .unwrap_or_else(|_| panic!("the table `{}` loads", table.name));
            for (name, ty) in &mut schema.columns {
                if let Some(column) = loaded.column(name) {
                    *ty = column.data.column_type().into();
                }
            }
            tables.push(Some(loaded));
            schemas.push(schema);
        }
        Project {
            config,
            schemas,
            tables,
        }
    })
}

/// Every label must point into its source, on character boundaries.
fn assert_places(diagnostics: &[Diagnostic], sources: &SourceMap) {
    for diagnostic in diagnostics {
        for label in diagnostic.primary.iter().chain(&diagnostic.related) {
            let text = sources.text(label.file);
            let span = label.span;
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{:?} has the label span {span:?} outside its {}-byte source",
                diagnostic.code,
                text.len()
            );
            assert!(
                text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                "{:?} has the label span {span:?} inside a character",
                diagnostic.code
            );
        }
    }
}

/// Plans, evaluates and builds the outputs of a program that checked clean, unless it
/// uses the table that has no file (`segc run` stops before evaluating then).
fn run(project: &Project, program: &check::ir::Program, sources: &SourceMap) {
    let plan = plan::plan(program, &[]).expect("a clean program plans");
    let planned: usize = plan.levels.iter().map(Vec::len).sum();
    assert_eq!(planned, program.segments.len(), "every segment is planned");
    if plan
        .tables
        .iter()
        .any(|(index, _)| project.tables[*index].is_none())
    {
        return;
    }
    let config = &project.config;
    let as_of = config.as_of.map(|(days, _)| days);
    let evaluation = segc::eval::evaluate(program, &plan.levels, &project.tables, as_of);
    for &id in &plan.outputs {
        let result = evaluation.results[id]
            .as_ref()
            .expect("every planned segment has a result");
        assert_eq!(result.count, result.members.count());
        assert!(result.count <= evaluation.universe.len());
        if let Some(groups) = &result.groups {
            assert_eq!(groups.len(), result.count);
        }
    }
    let outputs = output::build(
        program,
        config,
        &project.tables,
        &evaluation,
        &plan.outputs,
        sources,
        as_of,
    );
    assert_eq!(outputs.make_all().len(), plan.outputs.len() + 1);
    output::terminal_summary(program, config, &evaluation, &plan.outputs);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let project = project();
    let sources = SourceMap::new();
    let config_file = sources.add("segc.toml", CONFIG);
    assert_eq!(config_file, project.config.file);

    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    for (index, part) in text.split('\0').take(MAX_FILES).enumerate() {
        let file = sources.add(format!("segments/f{index}.seg"), part);
        match syntax::parse_file(file, part) {
            Ok(parsed) => files.push((file, parsed)),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }

    let checked = check::check(&project.config, &files, &project.schemas);
    diagnostics.extend(checked.diagnostics);
    if !checked.has_errors {
        run(project, &checked.program, &sources);
    }

    // `[lints]` as `segc check` applies it: allowed warnings go, denied ones are errors.
    let mut diagnostics: Vec<Diagnostic> = check::allow::apply(&files, &sources, diagnostics, true)
        .into_iter()
        .filter_map(|mut diagnostic| {
            if diagnostic.code.default_level() != Level::Error {
                diagnostic.level = project.config.level(diagnostic.code)?;
            }
            Some(diagnostic)
        })
        .collect();
    assert_places(&diagnostics, &sources);
    render::sort(&mut diagnostics, &sources);
    let options = Options {
        human: HumanStyle {
            color: false,
            width: 100,
        },
        root: Some(PathBuf::from("/project")),
    };
    for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
        render::report(format, &diagnostics, &sources, &options);
    }
});
