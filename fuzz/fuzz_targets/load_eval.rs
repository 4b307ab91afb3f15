//! Arbitrary bytes as a table, through the stages `segc run` runs: the header pass of the
//! checker, plan, the real loader, the typed check, evaluation and the outputs, built in
//! memory and never written. Every finding on the way is rendered in every format.
//!
//! The first byte chooses the table's configuration; the rest is the CSV file:
//!
//! | bits | choice |
//! | --- | --- |
//! | 0–1 | delimiter: `,` `;` tab `\|` |
//! | 2 | `on_bad_value = "null"` instead of `"error"` |
//! | 3–4 | types: inferred; `transactional-churn`; `subscription-churn` and declared; |
//! |     | declared without a model, `ChurnScore` an integer |
//! | 5 | `null_values = ["", "NA", "null"]` instead of `[""]` |
//! | 6 | a fixed header line before the bytes, so that all of them are data |
//! | 7 | a second, fixed table `clv` and segments across both tables |
//!
//! The segments use where, top and bottom with and without ties, select, split, every
//! aggregate and function, `in segment` and combine. Beyond "no panic", results must be
//! consistent: counts match the member sets, and every split member has a group.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use segc::check::schema::{plan_inputs, HeaderMode};
use segc::check::{self, TableSchema};
use segc::config::{self, Config};
use segc::data::{self, Table};
use segc::diag::render::{self, Format, HumanStyle, Options};
use segc::diag::{Code, Diagnostic};
use segc::output;
use segc::plan;
use segc::source::{FileId, SourceMap};
use segc::syntax::{self, ast::SegFile};

const COLUMNS: [&str; 5] = [
    "CustomerId",
    "ChurnScore",
    "IsChurn",
    "TopFactor",
    "LastPurchaseDate",
];

const SEGMENTS: &str = r#"
segment high {
    title "High"
    from churn
    where IsChurn and ChurnScore >= 0.5
    select ChurnScore, TopFactor, LastPurchaseDate
    expect size >= 1
}

segment ranked {
    from churn
    where not IsChurn or ChurnScore is null
    top 30% with ties by ChurnScore
    split a 50%, b 30%, c 20% seed "fuzz"
}

segment lowest {
    from churn
    where LastPurchaseDate is not null
    bottom 2 with ties by days_since(LastPurchaseDate)
    select LastPurchaseDate, IsChurn
}

segment latest {
    from churn
    top 12.5% by LastPurchaseDate
}

segment numeric {
    from churn
    where ChurnScore > avg(ChurnScore) and ChurnScore <= percentile(ChurnScore, 0.9)
        or ChurnScore between median(ChurnScore) and max(ChurnScore)
        or ChurnScore < min(ChurnScore) + stddev(ChurnScore) - sum(ChurnScore) / 3
    expect share between 10% and 90%
}

segment text {
    from churn
    where lower(TopFactor) contains "ti" or upper(TopFactor) starts with "S"
        or TopFactor ends with "s" or length(coalesce(TopFactor, "none")) > 12
        or TopFactor in ("Price", "SupportTickets") or TopFactor not in ("x", "y")
}

segment arithmetic {
    from churn
    where round(abs(ChurnScore * 100 - 50), 1) / (ChurnScore - 0.5) > -3
        or days_since(LastPurchaseDate) not between 0 and 30
        or LastPurchaseDate >= date "2023-01-01"
}

segment lists {
    from churn
    where coalesce(ChurnScore, 0) not in (0.1, -1, 1) and IsChurn in (true) or IsChurn = false
}

segment nested {
    from churn
    where in segment high or not in segment numeric
    top 3 by ChurnScore + 1
}

segment combined {
    combine (high union ranked) except (lowest intersect text)
    split x 33.3%, y 66.7% seed "s"
    expect share between 1% and 90%
}
"#;

const CROSS_SEGMENTS: &str = r#"
segment valuable {
    from clv
    top 50% with ties by CLVScore
}

segment valuable_risk {
    combine valuable intersect high union nested
}

segment risk_in_value {
    from churn
    where in segment valuable and ChurnScore > 0.1
    select TopFactor
}
"#;

/// The second table: keys that the samples and short fuzz inputs both use.
const CLV: &str = "CustomerId,CLVScore\nC000799,10.5\nC001859,3\na,7\nb,7\n1,0\nzz,\n";

/// Where the table file goes: one folder per process, in memory when the system has one.
/// libFuzzer exits without running destructors, so the folder (two small files) stays.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("segc-fuzz-load-eval-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("a folder for the fuzzed table");
        std::fs::write(root.join("clv.csv"), CLV).expect("the fixed clv table");
        root
    })
}

/// The configuration chosen by the first byte of the input.
struct Choice {
    delimiter: u8,
    null_on_bad_value: bool,
    types: u8,
    more_nulls: bool,
    fixed_header: bool,
    cross: bool,
}

impl Choice {
    fn of(byte: u8) -> Choice {
        Choice {
            delimiter: [b',', b';', b'\t', b'|'][usize::from(byte & 3)],
            null_on_bad_value: byte & 4 != 0,
            types: (byte >> 3) & 3,
            more_nulls: byte & 32 != 0,
            fixed_header: byte & 64 != 0,
            cross: byte & 128 != 0,
        }
    }

    fn toml(&self) -> String {
        let delimiter = match self.delimiter {
            b'\t' => "\\t".to_string(),
            other => char::from(other).to_string(),
        };
        let mut text = String::from("key = \"CustomerId\"\nas_of = \"2024-06-30\"\n");
        text += "\n[tables.churn]\npath = \"churn.csv\"\n";
        text += &format!("delimiter = \"{delimiter}\"\n");
        if self.null_on_bad_value {
            text += "on_bad_value = \"null\"\n";
        }
        if self.more_nulls {
            text += "null_values = [\"\", \"NA\", \"null\"]\n";
        }
        match self.types {
            0 => {}
            1 => {
                text += "model = \"transactional-churn\"\n";
                text += "\n[tables.churn.columns]\nLastPurchaseDate = \"date\"\n";
            }
            2 => {
                text += "model = \"subscription-churn\"\n";
                text += "\n[tables.churn.columns]\nTopFactor = \"string\"\n";
                text += "LastPurchaseDate = \"date\"\nChurnScore = \"number\"\n";
            }
            _ => {
                text += "\n[tables.churn.columns]\nChurnScore = \"integer\"\n";
                text += "IsChurn = \"bool\"\nTopFactor = \"string\"\n";
                text += "LastPurchaseDate = \"date\"\n";
            }
        }
        if self.cross {
            text += "\n[tables.clv]\npath = \"clv.csv\"\nmodel = \"customer-lifetime-value\"\n";
        }
        text
    }

    fn header(&self) -> Vec<u8> {
        let mut line = COLUMNS
            .join(&char::from(self.delimiter).to_string())
            .into_bytes();
        line.push(b'\n');
        line
    }
}

/// The segment file, parsed once per variant. It is always the second source registered,
/// after segc.toml, so its file id is the same in every run's source map.
fn segments(cross: bool) -> &'static SegFile {
    static PLAIN: OnceLock<SegFile> = OnceLock::new();
    static CROSS: OnceLock<SegFile> = OnceLock::new();
    let cell = if cross { &CROSS } else { &PLAIN };
    cell.get_or_init(|| {
        syntax::parse_file(FileId(1), &segment_text(cross)).expect("the fuzz segments parse")
    })
}

fn segment_text(cross: bool) -> String {
    if cross {
        format!("{SEGMENTS}{CROSS_SEGMENTS}")
    } else {
        SEGMENTS.to_string()
    }
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

/// Renders the findings in every format, as `segc` would print them.
fn report(mut diagnostics: Vec<Diagnostic>, sources: &SourceMap) {
    assert_places(&diagnostics, sources);
    render::sort(&mut diagnostics, sources);
    let options = Options {
        human: HumanStyle {
            color: false,
            width: 100,
        },
        root: Some(root().to_path_buf()),
    };
    for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
        render::report(format, &diagnostics, sources, &options);
    }
}

/// The header schemas with the types the loader settled for the loaded columns.
fn loaded_schemas(headers: &[TableSchema], tables: &[Option<Table>]) -> Vec<TableSchema> {
    headers
        .iter()
        .zip(tables)
        .map(|(schema, table)| {
            let mut schema = schema.clone();
            if let Some(table) = table {
                for (name, ty) in &mut schema.columns {
                    if let Some(column) = table.column(name) {
                        *ty = column.data.column_type().into();
                    }
                }
            }
            schema
        })
        .collect()
}

/// The configuration of a choice, read once per process: the first source registered in
/// every run's source map is its segc.toml, so its file id is the same in each.
fn configuration(choice: &Choice, byte: u8) -> &'static Config {
    static CONFIGS: [OnceLock<Config>; 256] = [const { OnceLock::new() }; 256];
    CONFIGS[usize::from(byte)].get_or_init(|| {
        let sources = SourceMap::new();
        let file = sources.add("segc.toml", choice.toml());
        config::parse(root(), file, &sources).expect("every chosen segc.toml is valid")
    })
}

fn run(byte: u8, csv: &[u8]) {
    let choice = &Choice::of(byte);
    let root = root();
    let mut bytes = if choice.fixed_header {
        choice.header()
    } else {
        Vec::new()
    };
    bytes.extend_from_slice(csv);
    std::fs::write(root.join("churn.csv"), &bytes).expect("the fuzzed table is written");

    let sources = SourceMap::new();
    let config_file = sources.add("segc.toml", choice.toml());
    let config = configuration(choice, byte);
    assert_eq!(config_file, config.file);
    let seg_file = sources.add("segments/fuzz.seg", segment_text(choice.cross));
    assert_eq!(seg_file, FileId(1));
    let files = vec![(seg_file, segments(choice.cross).clone())];

    // First pass, as `segc run` does: header names only.
    let mut schemas = Vec::new();
    let mut header_problems = Vec::new();
    for (schema, mut found) in check::header_schemas(config, HeaderMode::NamesOnly, &sources) {
        schemas.push(schema);
        header_problems.append(&mut found);
    }
    let checked = check::check(config, &files, &schemas);
    let header_errors: Vec<Diagnostic> = header_problems
        .into_iter()
        .filter(|d| d.is_error() && d.code != Code::TableUnavailable)
        .collect();
    if checked.has_errors || !header_errors.is_empty() {
        let mut findings = checked.diagnostics;
        findings.extend(header_errors);
        return report(findings, &sources);
    }
    let plan = plan::plan(&checked.program, &[]).expect("a clean program plans");

    let inputs = plan_inputs(config, &plan.tables);
    let options: Vec<data::LoadOptions<'_>> = inputs
        .iter()
        .map(|(index, inputs, columns)| inputs.options(&config.tables[*index], columns))
        .collect();
    let mut tables: Vec<Option<Table>> = vec![None; config.tables.len()];
    let mut problems = Vec::new();
    let loaded_tables = data::load_tables(&options, &sources, &|_| {}, &|_| {});
    for ((index, _, _), loaded) in inputs.iter().zip(loaded_tables) {
        match loaded {
            Ok(mut table) => {
                table.order_by_key(plan.aggregated.contains(index));
                tables[*index] = Some(table);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return report(problems, &sources);
    }

    // Second pass with the loaded types, then evaluation.
    let checked = check::check(config, &files, &loaded_schemas(&schemas, &tables));
    let mut findings: Vec<Diagnostic> = tables
        .iter()
        .flatten()
        .flat_map(|t| t.warnings.iter().cloned())
        .collect();
    findings.extend(checked.diagnostics.into_iter().filter(Diagnostic::is_error));
    if checked.has_errors {
        return report(findings, &sources);
    }
    let program = &checked.program;
    let as_of = config.as_of.map(|(days, _)| days);
    let evaluation = segc::eval::evaluate(program, &plan.levels, &tables, as_of);
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
        &tables,
        &evaluation,
        &plan.outputs,
        &sources,
        as_of,
    );
    assert_eq!(outputs.make_all().len(), plan.outputs.len() + 1);
    output::terminal_summary(program, config, &evaluation, &plan.outputs);
    report(findings, &sources);
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, csv)) = data.split_first() else {
        return;
    };
    run(first, csv);
});
