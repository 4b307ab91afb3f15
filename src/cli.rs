//! The command line: arguments become a validated request, the request runs the stages,
//! and the outcome becomes an exit status.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::schema::{HeaderMode, TableInputs};
use crate::check::{self, ir::Program, TableSchema};
use crate::compile::{self, Dialect};
use crate::config::Config;
use crate::data::{self, parse_date, Table};
use crate::diag::render::{self, Format, HumanStyle};
use crate::diag::{Code, Diagnostic, Level};
use crate::eval;
use crate::output;
use crate::plan;
use crate::project::{self, OpenError, Project};
use crate::source::SourceMap;

/// Rows read from each table by `segc check` to infer the types of undeclared columns.
const CHECK_SAMPLE_ROWS: usize = 10_000;

#[derive(Debug, Parser)]
#[command(
    name = "segc",
    version,
    about = "Compile segment definitions into customer lists"
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    directory: Option<PathBuf>,

    /// How to print problems.
    #[arg(long, value_enum, default_value = "human", global = true)]
    format: FormatArg,

    /// Log stage timings and decisions on stderr.
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Github,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse, resolve and check the segments, without evaluating them.
    Check {
        /// Segment files or folders to report on (default: the project's globs).
        paths: Vec<PathBuf>,
        /// Treat warnings as errors (`--deny warnings`).
        #[arg(long, value_name = "LEVEL", value_parser = ["warnings"])]
        deny: Option<String>,
    },
    /// Evaluate the segments and write one member list per segment.
    Run {
        /// Evaluate only these segments (and what they depend on).
        #[arg(long, num_args = 1.., value_name = "NAME")]
        only: Vec<String>,
        /// Write outputs here instead of the configured folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// Reference date for relative dates: `YYYY-MM-DD`, or `today`.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Print SQL that computes each segment on DuckDB, Spark or PostgreSQL.
    Compile {
        /// The SQL engine to write for.
        #[arg(long, value_enum)]
        dialect: DialectArg,
        /// Compile only these segments (default: every segment).
        names: Vec<String>,
        /// Write one `NAME.sql` per segment here (`views.sql` with `--views`).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// One script that creates a view per segment, each after the views it reads.
        #[arg(long)]
        views: bool,
        /// Reference date for `days_since`: `YYYY-MM-DD`, or `today`.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DialectArg {
    Duckdb,
    Spark,
    Postgres,
}

impl From<DialectArg> for Dialect {
    fn from(arg: DialectArg) -> Dialect {
        match arg {
            DialectArg::Duckdb => Dialect::DuckDb,
            DialectArg::Spark => Dialect::Spark,
            DialectArg::Postgres => Dialect::Postgres,
        }
    }
}

/// Runs segc with the process arguments; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    let format = match cli.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
    };
    let start = match &cli.directory {
        Some(dir) => dir.clone(),
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(error) => {
                eprintln!("error: cannot read the working directory: {error}");
                return 2;
            }
        },
    };
    let session = Session {
        format,
        verbose: cli.verbose,
        sources: SourceMap::new(),
    };
    match cli.command {
        Command::Check { paths, deny } => session.check(&start, &paths, deny.is_some()),
        Command::Run {
            only,
            out,
            threads,
            as_of,
        } => {
            if let Some(threads) = threads {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(usize::from(threads));
                if let Err(error) = pool.build_global() {
                    eprintln!("error: cannot start {threads} threads: {error}");
                    return 2;
                }
            }
            session.run(&start, &only, out.as_deref(), as_of.as_deref())
        }
        Command::Compile {
            dialect,
            names,
            out,
            views,
            as_of,
        } => {
            let request = CompileRequest {
                dialect: dialect.into(),
                names,
                out,
                views,
                as_of,
            };
            session.compile(&start, &request)
        }
    }
}

/// What `segc compile` was asked for.
struct CompileRequest {
    dialect: Dialect,
    names: Vec<String>,
    out: Option<PathBuf>,
    views: bool,
    as_of: Option<String>,
}

struct Session {
    format: Format,
    verbose: bool,
    sources: SourceMap,
}

impl Session {
    fn log(&self, message: impl AsRef<str>) {
        if self.verbose {
            eprintln!("[segc] {}", message.as_ref());
        }
    }

    /// Prints findings in the chosen format, sorted; returns whether any is an error.
    fn report(&self, mut diagnostics: Vec<Diagnostic>) -> bool {
        render::sort(&mut diagnostics, &self.sources);
        let stderr = std::io::stderr();
        let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let style = HumanStyle { color, width: 100 };
        let mut out = std::io::stdout().lock();
        let mut errors = 0;
        let mut warnings = 0;
        for diagnostic in &diagnostics {
            match diagnostic.level {
                Level::Error => errors += 1,
                Level::Warning => warnings += 1,
            }
            let text = match self.format {
                Format::Human => render::human(diagnostic, &self.sources, style),
                Format::Json => render::json(diagnostic, &self.sources) + "\n",
                Format::Github => render::github(diagnostic, &self.sources) + "\n",
            };
            if self.format == Format::Human {
                eprint!("{text}");
            } else {
                let _ = out.write_all(text.as_bytes());
            }
        }
        if self.format == Format::Human && (errors > 0 || warnings > 0) {
            eprintln!("{}", tally(errors, warnings));
        }
        errors > 0
    }

    fn open(&self, start: &Path, paths: &[PathBuf]) -> Result<(Project, Vec<Diagnostic>), i32> {
        let Some(root) = crate::config::find_root(start) else {
            eprintln!(
                "error: no `segc.toml` in `{}` or any parent folder\n  help: run segc inside a \
                 project, or name one with `-C DIR`",
                start.display()
            );
            return Err(2);
        };
        match project::open(&root, paths, &self.sources) {
            Ok(opened) => Ok(opened),
            Err(OpenError::NotFound(dir)) => {
                eprintln!("error: no `segc.toml` in `{}`", dir.display());
                Err(2)
            }
            Err(OpenError::Invalid(problems)) => {
                self.report(problems);
                Err(1)
            }
        }
    }

    fn check(&self, start: &Path, paths: &[PathBuf], deny_warnings: bool) -> i32 {
        let started = Instant::now();
        let (project, mut diagnostics) = match self.open(start, paths) {
            Ok(opened) => opened,
            Err(status) => return status,
        };
        let (schemas, problems) = schemas(
            &project.config,
            HeaderMode::Sample(CHECK_SAMPLE_ROWS),
            &self.sources,
        );
        diagnostics.extend(problems);
        let checked = check::check(&project.config, &project.files, &schemas);
        diagnostics.extend(checked.diagnostics);
        let diagnostics = check::allow::apply(&project.files, &self.sources, diagnostics, true);
        let mut diagnostics = apply_levels(&project.config, diagnostics);
        if let Some(selected) = &project.selected {
            diagnostics.retain(|d| {
                d.primary
                    .as_ref()
                    .is_none_or(|l| selected.contains(&l.file))
            });
        }
        if deny_warnings {
            diagnostics.iter_mut().for_each(|d| d.level = Level::Error);
        }
        self.log(format!(
            "checked {} files in {:.1} ms",
            project.files.len(),
            started.elapsed().as_secs_f64() * 1e3
        ));
        let count = diagnostics.len();
        let failed = self.report(diagnostics);
        if count == 0 && self.format == Format::Human {
            eprintln!(
                "checked {} file{}: no problems",
                project.files.len(),
                if project.files.len() == 1 { "" } else { "s" }
            );
        }
        i32::from(failed)
    }

    fn run(&self, start: &Path, only: &[String], out: Option<&Path>, as_of: Option<&str>) -> i32 {
        let started = Instant::now();
        let (mut project, diagnostics) = match self.open(start, &[]) {
            Ok(opened) => opened,
            Err(status) => return status,
        };
        if let Err(status) = override_as_of(&mut project.config, as_of) {
            return status;
        }
        let config = &project.config;
        if diagnostics.iter().any(Diagnostic::is_error) {
            self.report(apply_levels(config, diagnostics));
            return 1;
        }

        // First pass: names only, to learn which columns the segments use.
        let (schemas, header_problems) = schemas(config, HeaderMode::NamesOnly, &self.sources);
        let checked = check::check(config, &project.files, &schemas);
        let mut findings: Vec<Diagnostic> = diagnostics;
        findings.extend(checked.diagnostics);
        if checked.has_errors || findings.iter().any(Diagnostic::is_error) {
            findings.extend(
                header_problems
                    .into_iter()
                    .filter(|d| d.code != Code::TableUnavailable),
            );
            self.report(apply_levels(config, findings));
            return 1;
        }
        let plan = match plan::plan(&checked.program, only) {
            Ok(plan) => plan,
            Err(problems) => {
                self.report(problems);
                return 2;
            }
        };
        // A missing file matters only for the tables this run reads.
        let used: Vec<usize> = plan.tables.iter().map(|(t, _)| *t).collect();
        let table_problems: Vec<Diagnostic> = header_problems
            .into_iter()
            .filter_map(|mut d| {
                if d.code != Code::TableUnavailable {
                    return d.is_error().then_some(d);
                }
                let span = d.primary.as_ref().map(|label| label.span);
                let table = config
                    .tables
                    .iter()
                    .position(|t| Some(t.path_span) == span)?;
                used.contains(&table).then(|| {
                    d.code = Code::Io;
                    d.level = Level::Error;
                    d.help = Some("`segc run` needs the file of every table it reads".into());
                    d
                })
            })
            .collect();
        if !table_problems.is_empty() {
            self.report(apply_levels(config, table_problems));
            return 1;
        }
        self.log(format!(
            "planned {} levels over {} tables",
            plan.levels.len(),
            plan.tables.len()
        ));

        // Load, then check again with the real column types.
        let tables = match self.load(config, &plan) {
            Ok(tables) => tables,
            Err(problems) => {
                self.report(apply_levels(config, problems));
                return 1;
            }
        };
        let typed_schemas: Vec<TableSchema> = schemas_of_loaded(&schemas, &tables);
        let checked = check::check(config, &project.files, &typed_schemas);
        let mut findings: Vec<Diagnostic> = tables
            .iter()
            .flatten()
            .flat_map(|t| t.warnings.iter().cloned())
            .collect();
        findings.extend(checked.diagnostics.into_iter().filter(Diagnostic::is_error));
        if checked.has_errors {
            self.report(apply_levels(config, findings));
            return 1;
        }
        let program: &Program = &checked.program;

        let eval_started = Instant::now();
        let as_of_days = config.as_of.map(|(days, _)| days);
        let evaluation = eval::evaluate(program, &plan.levels, &tables, as_of_days);
        self.log(format!(
            "evaluated in {:.1} ms",
            eval_started.elapsed().as_secs_f64() * 1e3
        ));

        let outputs = output::build(
            program,
            config,
            &tables,
            &evaluation,
            &plan.outputs,
            &self.sources,
            as_of_days,
        );
        let out_dir = out.map_or_else(|| config.resolve(&config.output), Path::to_path_buf);
        if let Err(error) = output::write(&out_dir, &outputs) {
            findings.push(
                Diagnostic::new(
                    Code::Io,
                    format!("cannot write to `{}`: {error}", out_dir.display()),
                )
                .help("check that the output folder is writable; previous outputs are untouched"),
            );
            self.report(apply_levels(config, findings));
            return 1;
        }

        for &id in &plan.outputs {
            let Some(result) = &evaluation.results[id] else {
                continue;
            };
            let segment = &program.segments[id];
            if result.count == 0 {
                let span = segment.span;
                let end = self.sources.text(segment.file)[span.start..span.end]
                    .find('{')
                    .map_or(span.end, |offset| span.start + offset);
                findings.push(
                    Diagnostic::new(
                        Code::EmptySegment,
                        format!("segment `{}` has no members", segment.name),
                    )
                    .at(
                        segment.file,
                        crate::source::Span::new(span.start, end),
                        "empty on this data",
                    ),
                );
            }
            for (expect, outcome) in segment.expects.iter().zip(&result.expects) {
                if outcome.passed {
                    continue;
                }
                let actual = match expect.metric {
                    crate::syntax::ast::Metric::Size => format!("{}", outcome.actual),
                    crate::syntax::ast::Metric::Share => format!("{:.2}%", outcome.actual),
                };
                findings.push(
                    Diagnostic::new(
                        Code::ExpectFailed,
                        format!(
                            "segment `{}` expected {} {}, but it is {actual}",
                            segment.name,
                            match expect.metric {
                                crate::syntax::ast::Metric::Size => "size",
                                crate::syntax::ast::Metric::Share => "share",
                            },
                            output::describe_test(expect.metric, expect.test)
                        ),
                    )
                    .at(segment.file, expect.span, format!("actual: {actual}"))
                    .help("the outputs were written; look at the data or adjust the expectation"),
                );
            }
        }
        print!(
            "{}",
            output::terminal_summary(program, config, &evaluation, &plan.outputs)
        );
        println!(
            "wrote {} files to {} in {:.0} ms",
            outputs.files.len(),
            project::display_name(&config.root, &out_dir),
            started.elapsed().as_secs_f64() * 1e3
        );
        let findings = check::allow::apply(&project.files, &self.sources, findings, false);
        let failed = self.report(apply_levels(config, findings));
        i32::from(failed)
    }

    fn load(
        &self,
        config: &Config,
        plan: &plan::Plan,
    ) -> Result<Vec<Option<Table>>, Vec<Diagnostic>> {
        let inputs: Vec<(usize, TableInputs, Vec<String>)> = plan
            .tables
            .iter()
            .map(|(index, columns)| {
                let table = &config.tables[*index];
                let columns = columns
                    .iter()
                    .filter(|c| **c != table.key)
                    .cloned()
                    .collect();
                (*index, TableInputs::new(config, table), columns)
            })
            .collect();
        let options: Vec<data::LoadOptions<'_>> = inputs
            .iter()
            .map(|(index, inputs, columns)| inputs.options(&config.tables[*index], columns))
            .collect();
        let progress = std::io::stderr().is_terminal() && self.format == Format::Human;
        if progress {
            eprint!("loading {} tables…\r", options.len());
        }
        let loaded = data::load_tables(&options, &self.sources);
        if progress {
            eprint!("{:40}\r", "");
        }
        let mut tables: Vec<Option<Table>> = vec![None; config.tables.len()];
        let mut problems = Vec::new();
        for ((index, _, _), result) in inputs.iter().zip(loaded) {
            match result {
                Ok(table) => {
                    self.log(format!(
                        "loaded `{}`: {} rows, {} keys in {:.1} ms",
                        table.name,
                        table.rows,
                        table.keys.len(),
                        table.load_time.as_secs_f64() * 1e3
                    ));
                    tables[*index] = Some(table);
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        if problems.is_empty() {
            Ok(tables)
        } else {
            Err(problems)
        }
    }
}

impl Session {
    /// `segc compile`: checks like `check` (headers and a sample of rows; the data files may
    /// be absent), then writes the SQL. Only errors are reported, so that the standard output
    /// holds SQL or findings, never both.
    fn compile(&self, start: &Path, request: &CompileRequest) -> i32 {
        let (mut project, diagnostics) = match self.open(start, &[]) {
            Ok(opened) => opened,
            Err(status) => return status,
        };
        if let Err(status) = override_as_of(&mut project.config, request.as_of.as_deref()) {
            return status;
        }
        let config = &project.config;
        let (schemas, problems) =
            schemas(config, HeaderMode::Sample(CHECK_SAMPLE_ROWS), &self.sources);
        let checked = check::check(config, &project.files, &schemas);
        let errors: Vec<Diagnostic> = diagnostics
            .into_iter()
            .chain(problems)
            .chain(checked.diagnostics)
            .filter(Diagnostic::is_error)
            .collect();
        if checked.has_errors || !errors.is_empty() {
            self.report(errors);
            return 1;
        }
        let program = &checked.program;
        let ids = match plan::plan(program, &request.names) {
            Ok(plan) => plan.outputs,
            Err(problems) => {
                self.report(problems);
                return 2;
            }
        };
        let dialect = request.dialect;
        let files: Vec<(String, String)> = if request.views {
            match compile::views(program, config, &self.sources, dialect, &ids) {
                Ok(script) => vec![("views.sql".to_string(), script)],
                Err(problems) => {
                    self.report(problems);
                    return 1;
                }
            }
        } else {
            match compile::compile(program, config, &self.sources, dialect, &ids) {
                Ok(statements) => statements
                    .into_iter()
                    .map(|s| (format!("{}.sql", s.name), s.sql))
                    .collect(),
                Err(problems) => {
                    self.report(problems);
                    return 1;
                }
            }
        };
        self.log(format!(
            "compiled {} segments for {dialect}",
            if request.views {
                ids.len()
            } else {
                files.len()
            }
        ));
        let Some(dir) = &request.out else {
            let text: Vec<&str> = files.iter().map(|(_, sql)| sql.as_str()).collect();
            // A closed pipe (`| head`) is the reader's choice, not an error.
            let _ = std::io::stdout()
                .lock()
                .write_all(text.join("\n").as_bytes());
            return 0;
        };
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            files
                .iter()
                .try_for_each(|(name, sql)| std::fs::write(dir.join(name), sql))
        });
        if let Err(error) = written {
            self.report(vec![Diagnostic::new(
                Code::Io,
                format!("cannot write to `{}`: {error}", dir.display()),
            )
            .help("check that the output folder is writable")]);
            return 1;
        }
        0
    }
}

/// Applies `--as-of`; on a text that is no date, says so and gives the exit status 2.
fn override_as_of(config: &mut Config, as_of: Option<&str>) -> Result<(), i32> {
    let Some(text) = as_of else {
        return Ok(());
    };
    let days = if text == "today" {
        Some(today())
    } else {
        parse_date(text)
    };
    let Some(days) = days else {
        eprintln!("error: `--as-of {text}` is not a date\n  help: write `YYYY-MM-DD` or `today`");
        return Err(2);
    };
    let span = config.as_of.map(|(_, span)| span).unwrap_or_default();
    config.as_of = Some((days, span));
    Ok(())
}

/// Schemas of every table from its header (and, with a sample, its first rows).
fn schemas(
    config: &Config,
    mode: HeaderMode,
    sources: &SourceMap,
) -> (Vec<TableSchema>, Vec<Diagnostic>) {
    let mut schemas = Vec::new();
    let mut problems = Vec::new();
    for (schema, mut found) in check::header_schemas(config, mode, sources) {
        schemas.push(schema);
        problems.append(&mut found);
    }
    (schemas, problems)
}

/// The schemas with the types the loader found for the columns it loaded.
fn schemas_of_loaded(headers: &[TableSchema], tables: &[Option<Table>]) -> Vec<TableSchema> {
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

/// Applies `[lints]`: drops allowed findings, raises denied ones to errors.
fn apply_levels(config: &Config, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut diagnostic| {
            if diagnostic.code.default_level() == Level::Error {
                return Some(diagnostic);
            }
            diagnostic.level = config.level(diagnostic.code)?;
            Some(diagnostic)
        })
        .collect()
}

fn tally(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => format!("{} found", plural(w, "warning")),
        (e, 0) => format!("{} found", plural(e, "error")),
        (e, w) => format!("{} and {} found", plural(e, "error"), plural(w, "warning")),
    }
}

/// Today's date in UTC, as days since 1970-01-01: only when the user asks for it.
fn today() -> i32 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (seconds / 86_400) as i32
}
