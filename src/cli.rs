//! The command line: arguments become a validated request, the request runs the stages,
//! and the outcome becomes an exit status.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;

use crate::check::schema::{plan_inputs, HeaderMode};
use crate::check::{self, ir::Program, TableSchema};
use crate::compile::{self, Dialect};
use crate::config::Config;
use crate::data::{self, parse_date, Table};
use crate::diag::render::{self, Format, HumanStyle, Options};
use crate::diag::{Code, Diagnostic, Level};
use crate::eval;
use crate::fmt;
use crate::output;
use crate::plan;
use crate::progress::Progress;
use crate::project::{self, OpenError, Project};
use crate::source::{FileId, SourceMap};
use crate::syntax;

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
    /// A report for people, on stderr.
    Human,
    /// One JSON object per finding and line, on stdout.
    Json,
    /// GitHub Actions workflow commands, one per finding, on stdout.
    Github,
    /// One SARIF 2.1.0 log, on stdout.
    Sarif,
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
    /// Rewrite segment files in the canonical layout, keeping every comment.
    Fmt {
        /// Segment files or folders to format (default: the project's globs).
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that would change and exit 1 if there are any.
        #[arg(long)]
        check: bool,
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
        FormatArg::Sarif => Format::Sarif,
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
        root: OnceLock::new(),
        progress: OnceLock::new(),
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
        Command::Fmt { paths, check } => session.fmt(&start, &paths, check),
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
    /// The project folder, once found.
    root: OnceLock<PathBuf>,
    /// The bar while tables load and outputs are written, once a run has started loading.
    progress: OnceLock<Progress>,
}

impl Session {
    fn log(&self, message: impl AsRef<str>) {
        if self.verbose {
            eprintln!("[segc] {}", message.as_ref());
        }
    }

    /// Prints findings in the chosen format, sorted; returns whether any is an error.
    ///
    /// Each command reports once, at its end, so that SARIF's single log holds everything.
    fn report(&self, mut diagnostics: Vec<Diagnostic>) -> bool {
        if let Some(progress) = self.progress.get() {
            progress.finish();
        }
        render::sort(&mut diagnostics, &self.sources);
        let color = use_color(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
        let options = Options {
            human: HumanStyle { color, width: 100 },
            root: self.root.get().cloned(),
        };
        let text = render::report(self.format, &diagnostics, &self.sources, &options);
        let errors = diagnostics
            .iter()
            .filter(|d| d.level == Level::Error)
            .count();
        let warnings = diagnostics.len() - errors;
        if self.format.is_for_machines() {
            // A closed pipe (`segc check --format json | head`) is the reader's choice.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        } else {
            eprint!("{text}");
            if !diagnostics.is_empty() {
                eprintln!("{}", tally(errors, warnings));
            }
        }
        errors > 0
    }

    /// Prints what is for the user's eyes only: on stdout beside a human report, on stderr
    /// when stdout carries a machine format, so that it stays parseable.
    /// Prints the run's summary: on stdout, unless stdout carries a machine format. A closed
    /// pipe (`segc run | head`) is not an error, so write failures are ignored.
    fn say(&self, text: &str) {
        if self.format.is_for_machines() {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }

    fn open(&self, start: &Path, paths: &[PathBuf]) -> Result<(Project, Vec<Diagnostic>), i32> {
        let root = project_root(start)?;
        self.set_root(&root);
        self.opened(project::open(&root, paths, &self.sources))
    }

    /// Remembers the project root: SARIF's base URI for relative paths must be absolute.
    fn set_root(&self, root: &Path) {
        let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let _ = self.root.set(absolute);
    }

    /// Reports why a project could not be opened; returns the exit status.
    fn opened<T>(&self, result: Result<T, OpenError>) -> Result<T, i32> {
        match result {
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

        // The lock comes first, as soon as the output folder is known: a second run on the
        // same folder stops here, before loading anything.
        let out_dir = out.map_or_else(|| config.resolve(&config.output), Path::to_path_buf);
        let folder = match output::OutputFolder::claim(&out_dir) {
            Ok(folder) => folder,
            Err(error) => {
                self.report(vec![folder_problem(config, out, &error)]);
                return 1;
            }
        };
        self.log(format!(
            "locked the output folder `{}`",
            folder.path().display()
        ));
        folder.notes().iter().for_each(|note| self.log(note));

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

        let build_started = Instant::now();
        let outputs = output::build(
            program,
            config,
            &tables,
            &evaluation,
            &plan.outputs,
            &self.sources,
            as_of_days,
        );
        self.log(format!(
            "prepared {} files in {:.1} ms; each is made as it is written",
            outputs.len(),
            build_started.elapsed().as_secs_f64() * 1e3
        ));
        if let Some(progress) = self.progress.get() {
            progress.writing(outputs.len());
        }
        let write_started = Instant::now();
        let published = folder.publish(&outputs, &|line| self.log(line));
        if let Some(progress) = self.progress.get() {
            progress.finish();
        }
        match published {
            Ok(method) => self.log(format!(
                "{} in {:.1} ms",
                match method {
                    output::Method::Exchanged => "exchanged the staging and output folders",
                    output::Method::Created => "renamed the staging folder to the output folder",
                    output::Method::PerFile { .. } => "renamed the outputs into place one by one",
                },
                write_started.elapsed().as_secs_f64() * 1e3
            )),
            Err(error) => {
                findings.push(folder_problem(config, out, &error));
                self.report(apply_levels(config, findings));
                return 1;
            }
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
        self.say(&output::terminal_summary(
            program,
            config,
            &evaluation,
            &plan.outputs,
        ));
        self.say(&format!(
            "wrote {} files to {} in {:.0} ms\n",
            outputs.len(),
            project::display_name(&config.root, &out_dir),
            started.elapsed().as_secs_f64() * 1e3
        ));
        let findings = check::allow::apply(&project.files, &self.sources, findings, false);
        let failed = self.report(apply_levels(config, findings));
        i32::from(failed)
    }

    /// `segc fmt`: formats the named files, or the project's, in place or, with `check`,
    /// lists those that would change. A file that does not parse is reported, never written.
    fn fmt(&self, start: &Path, paths: &[PathBuf], check: bool) -> i32 {
        let (targets, mut problems) = if paths.is_empty() {
            let root = match project_root(start) {
                Ok(root) => root,
                Err(status) => return status,
            };
            self.set_root(&root);
            match self.opened(project::seg_files(&root, &self.sources)) {
                Ok(found) => found,
                Err(status) => return status,
            }
        } else {
            let mut problems = Vec::new();
            let targets = project::named_seg_files(start, paths, &mut problems);
            (targets, problems)
        };

        let texts: Vec<std::io::Result<String>> = targets
            .par_iter()
            .map(|(_, path)| std::fs::read_to_string(path))
            .collect();
        let mut files = Vec::new();
        for ((name, path), text) in targets.iter().zip(texts) {
            match text {
                Ok(text) => files.push((self.sources.add(name.as_str(), text), name, path)),
                Err(error) => problems.push(Diagnostic::new(
                    Code::Io,
                    format!("cannot read `{name}`: {error}"),
                )),
            }
        }
        let formatted: Vec<Result<Option<String>, Refusal>> = files
            .par_iter()
            .map(|(file, _, _)| reformat(*file, &self.sources.text(*file)))
            .collect();

        let mut changed = 0;
        let mut broken = false;
        for ((_, name, path), result) in files.iter().zip(formatted) {
            let text = match result {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(Refusal::Syntax(problem)) => {
                    problems.push(problem);
                    continue;
                }
                Err(Refusal::Unsafe) => {
                    eprintln!(
                        "segc: internal error: the formatted text of `{name}` would not mean \
                         what the file means"
                    );
                    eprintln!("This is a bug in segc. `{name}` was left as it was.");
                    broken = true;
                    continue;
                }
            };
            changed += 1;
            if check {
                println!("{name}");
            } else if let Err(error) = rewrite(path, &text) {
                problems.push(Diagnostic::new(
                    Code::Io,
                    format!("cannot write `{name}`: {error}"),
                ));
            }
        }
        self.log(format!(
            "{} of {} files {}",
            changed,
            files.len(),
            if check { "would change" } else { "rewritten" }
        ));
        let failed = self.report(problems);
        if broken {
            2
        } else {
            i32::from(failed || (check && changed > 0))
        }
    }

    fn load(
        &self,
        config: &Config,
        plan: &plan::Plan,
    ) -> Result<Vec<Option<Table>>, Vec<Diagnostic>> {
        let inputs = plan_inputs(config, &plan.tables);
        let options: Vec<data::LoadOptions<'_>> = inputs
            .iter()
            .map(|(index, inputs, columns)| inputs.options(&config.tables[*index], columns))
            .collect();
        let sizes: Vec<u64> = options
            .iter()
            .map(|o| std::fs::metadata(o.path).map_or(0, |m| m.len()))
            .collect();
        let shown = std::io::stderr().is_terminal() && self.format == Format::Human;
        self.progress
            .set(Progress::loading(sizes.iter().sum(), shown))
            .ok();
        let progress = self.progress.get().expect("set above");
        let loaded = data::load_tables(
            &options,
            &self.sources,
            &|table| progress.table(table.display_path),
            &|table| progress.advance(std::fs::metadata(table.path).map_or(0, |m| m.len())),
        );
        let mut tables: Vec<Option<Table>> = vec![None; config.tables.len()];
        let mut problems = Vec::new();
        for ((index, _, _), result) in inputs.iter().zip(loaded) {
            match result {
                Ok(mut table) => {
                    self.log(format!(
                        "loaded `{}`: {} rows, {} keys in {:.1} ms",
                        table.name,
                        table.rows,
                        table.keys.len(),
                        table.load_time.as_secs_f64() * 1e3
                    ));
                    let started = Instant::now();
                    table.order_by_key(plan.aggregated.contains(index));
                    if table.rows_are_keys {
                        self.log(format!(
                            "put the rows of `{}` in key order in {:.1} ms",
                            table.name,
                            started.elapsed().as_secs_f64() * 1e3
                        ));
                    }
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

/// The folder of the project `start` lies in, or the exit status after saying there is none.
fn project_root(start: &Path) -> Result<PathBuf, i32> {
    crate::config::find_root(start).ok_or_else(|| {
        eprintln!(
            "error: no `segc.toml` in `{}` or any parent folder\n  help: run segc inside a \
             project, or name one with `-C DIR`",
            start.display()
        );
        2
    })
}

/// Why `segc fmt` leaves a file alone.
enum Refusal {
    /// The file does not parse.
    Syntax(Diagnostic),
    /// The formatted text would parse to something else: a bug in the formatter.
    Unsafe,
}

/// The canonical text of one file, or `None` when it is already canonical.
///
/// The result is parsed again and compared with the original before anything is written:
/// a formatter bug must show up as an error, never as a changed segment.
fn reformat(file: FileId, text: &str) -> Result<Option<String>, Refusal> {
    let parsed = syntax::parse_file(file, text).map_err(Refusal::Syntax)?;
    let formatted = fmt::format_file(text, &parsed);
    if formatted == text {
        return Ok(None);
    }
    let reparsed = syntax::parse_file(file, &formatted).map_err(|_| Refusal::Unsafe)?;
    let stable = fmt::format_file(&formatted, &reparsed) == formatted;
    if !stable || !fmt::same_meaning(&parsed, &reparsed) {
        return Err(Refusal::Unsafe);
    }
    Ok(Some(formatted))
}

/// Replaces the file at `path` with `text`: written beside it under a temporary name, then
/// renamed over it, so that an interrupted run leaves the old file or the new one, whole.
///
/// A symbolic link is followed, so that the link stays a link, and the file keeps its
/// permissions.
fn rewrite(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temporary = target.with_file_name(format!(".{name}.segc-fmt-{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.set_permissions(permissions)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
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

/// The report of an output folder that cannot be claimed or written; it points at `output`
/// in segc.toml unless `--out` named the folder.
fn folder_problem(config: &Config, out: Option<&Path>, error: &output::FolderError) -> Diagnostic {
    use output::FolderError;
    let shown = |path: &Path| project::display_name(&config.root, path);
    let (message, label, help) = match error {
        FolderError::Busy { dir, lock } => (
            format!(
                "output folder `{}` is in use by another `segc run`",
                shown(dir)
            ),
            "the output folder",
            format!(
                "wait for that run to finish, or write elsewhere with `--out DIR`; the run \
                 holds a lock on `{}`",
                shown(lock)
            ),
        ),
        FolderError::Subfolder { dir, entry } => {
            let inside = shown(&dir.join(entry));
            (
                format!(
                    "the output folder `{}` holds a folder, `{inside}`",
                    shown(dir)
                ),
                "the output folder",
                format!(
                    "`segc run` replaces the output folder as a whole and carries over files \
                     only; move `{inside}` elsewhere, or write elsewhere with `--out DIR`; \
                     nothing was written"
                ),
            )
        }
        FolderError::NotAFolder(path) => (
            format!("the output path `{}` is not a folder", shown(path)),
            "something other than a folder has this path",
            "move it away, or write elsewhere with `output` in segc.toml or `--out DIR`; \
             nothing was written"
                .to_string(),
        ),
        FolderError::Io { .. } => (error.to_string(), "the output folder", error.help()),
    };
    let diagnostic = Diagnostic::new(Code::Io, message).help(help);
    match (out, config.output_span) {
        (None, Some(span)) => diagnostic.at(config.file, span, label),
        _ => diagnostic,
    }
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

/// Whether the human report is coloured: only on a terminal, and not when `NO_COLOR` is set
/// to anything but the empty string (the convention of no-color.org).
fn use_color(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(use_color(true, None));
        assert!(!use_color(false, None));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        // An empty `NO_COLOR` counts as unset.
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(false, Some(OsStr::new(""))));
    }
}
