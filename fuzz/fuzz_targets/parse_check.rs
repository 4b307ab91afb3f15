//! Arbitrary text as `.seg` files, through the stages `segc check` runs: parse, check (with
//! its lints), allow comments, then every report format. The project is fixed: the tables
//! of the sample project and of the test fixtures, with the columns their files have, so
//! that the seed corpus (every `.seg` file of the repository) checks as deeply as it does
//! in the tests.
//!
//! A NUL byte starts another file, so that duplicates and references across files are
//! reached too. Beyond "no panic", every label of every finding must lie inside its source
//! on character boundaries, and a program that checks clean must plan.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use segc::check::ir::Type;
use segc::check::{self, TableSchema};
use segc::config::{self, Config};
use segc::diag::render::{self, Format, HumanStyle, Options};
use segc::diag::{Diagnostic, Level};
use segc::plan;
use segc::source::SourceMap;
use segc::syntax;

const CONFIG: &str = r#"
key = "CustomerId"
as_of = "2024-06-30"

[tables.churn]
path = "churn.csv"
model = "transactional-churn"

[tables.churn.columns]
ZipCode = "string"
LastPurchaseDate = "date"

[tables.subscriptions]
path = "subscriptions.csv"
model = "subscription-churn"

[tables.clv]
path = "clv.csv"
model = "customer-lifetime-value"

[tables.recommendations]
path = "recommendations.csv"
model = "product-recommendation"

[tables.recs]
path = "recs.csv"
model = "product-recommendation"

[tables.campaigns]
path = "campaigns.csv"

[tables.t]
path = "t.csv"

[tables.v]
path = "v.csv"

[tables.p]
path = "p.csv"

[tables.s]
path = "s.csv"

[tables.people]
path = "people.csv"

[tables.extra]
path = "extra.csv"

[tables.extra.columns]
Amount = "number"

[lints]
float-equality = "deny"
"#;

/// The columns each table's file has (the key comes first), as `segc check` would infer
/// them; `extra` has no file, so only its declared columns are known.
const TABLES: &[(&str, &[(&str, Type)])] = &[
    (
        "campaigns",
        &[
            ("Campaign", Type::String),
            ("Channel", Type::String),
            ("StartDate", Type::Date),
            ("EndDate", Type::Date),
        ],
    ),
    (
        "churn",
        &[
            ("ChurnScore", Type::Number),
            ("IsChurn", Type::Bool),
            ("TopFactor", Type::String),
            ("Region", Type::String),
            ("ZipCode", Type::String),
            ("LastPurchaseDate", Type::Date),
            ("Email", Type::String),
            ("Preferred Channel", Type::String),
            ("Tenure", Type::Integer),
            ("Score", Type::Number),
        ],
    ),
    (
        "clv",
        &[
            ("CLVScore", Type::Number),
            ("TenureMonths", Type::Integer),
            ("Country", Type::String),
            ("Value", Type::Number),
        ],
    ),
    ("p", &[("N", Type::Integer)]),
    (
        "people",
        &[
            ("Score", Type::Number),
            ("Region", Type::String),
            ("Active", Type::Bool),
        ],
    ),
    (
        "recommendations",
        &[
            ("ProductID", Type::String),
            ("Category", Type::String),
            ("Rank", Type::Integer),
            ("Score", Type::Number),
        ],
    ),
    (
        "recs",
        &[
            ("ProductID", Type::String),
            ("Rank", Type::Integer),
            ("Score", Type::Number),
        ],
    ),
    ("s", &[("G", Type::String)]),
    (
        "subscriptions",
        &[
            ("ChurnScore", Type::Number),
            ("IsChurn", Type::Bool),
            ("Plan", Type::String),
            ("MonthlyFee", Type::Number),
            ("RenewalDate", Type::Date),
            ("AutoRenew", Type::Bool),
            ("PromoCode", Type::String),
        ],
    ),
    (
        "t",
        &[
            ("Score", Type::Number),
            ("Tag", Type::String),
            ("Flag", Type::Bool),
        ],
    ),
    ("v", &[("V", Type::Number)]),
];

/// More files than this in one input add nothing the first few do not reach.
const MAX_FILES: usize = 3;

struct Project {
    config: Config,
    schemas: Vec<TableSchema>,
}

fn project() -> &'static Project {
    static PROJECT: OnceLock<Project> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let sources = SourceMap::new();
        let file = sources.add("segc.toml", CONFIG);
        let config = config::parse(Path::new("/project"), file, &sources)
            .expect("the fuzz project's segc.toml is valid");
        let schemas = config
            .tables
            .iter()
            .map(
                |table| match TABLES.iter().find(|(name, _)| *name == table.name) {
                    Some((_, columns)) => {
                        let mut all = vec![(table.key.clone(), Type::String)];
                        all.extend(columns.iter().map(|&(name, ty)| (name.to_string(), ty)));
                        TableSchema {
                            columns: all,
                            available: true,
                        }
                    }
                    None => {
                        let mut declared: Vec<(String, Type)> = table
                            .declared_types()
                            .into_iter()
                            .map(|(name, ty)| (name, Type::from(ty)))
                            .collect();
                        declared.sort_by(|a, b| a.0.cmp(&b.0));
                        let mut all = vec![(table.key.clone(), Type::String)];
                        all.extend(declared);
                        TableSchema {
                            columns: all,
                            available: false,
                        }
                    }
                },
            )
            .collect();
        Project { config, schemas }
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
        let plan = plan::plan(&checked.program, &[]).expect("a clean program plans");
        let planned: usize = plan.levels.iter().map(Vec::len).sum();
        assert_eq!(
            planned,
            checked.program.segments.len(),
            "every segment is planned"
        );
    }

    let mut diagnostics = check::allow::apply(&files, &sources, diagnostics, true);
    for diagnostic in &mut diagnostics {
        if diagnostic.code.default_level() != Level::Error {
            if let Some(level) = project.config.level(diagnostic.code) {
                diagnostic.level = level;
            }
        }
    }
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
