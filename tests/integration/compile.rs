//! `segc compile` against the real engines: the SQL it writes, run on DuckDB, Spark and
//! PostgreSQL over the same tables, gives byte for byte the files `segc run` writes, for
//! the sample project, the benchmark's segments (20,000 customers) and every evaluation
//! fixture. `tests/compile/engines.py` loads the tables, runs the SQL and writes the rows in
//! segc's output format (see its header for the two things it does that SQL cannot: the
//! order of the rows of one key, and Rust's spelling of numbers).
//!
//! Also here: the compiled SQL of one fixture per dialect, compared with reviewed files
//! under `tests/compile/snapshots/` (`SEGC_BLESS=1` rewrites them), and the command line.

use std::fs;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use segc::check::ir::Function;
use segc::compile::Dialect;
use tempfile::TempDir;

use super::*;

const DIALECTS: [&str; 3] = ["duckdb", "spark", "postgres"];

/// A project copied into the scratch folder, with `segc run`'s outputs and the SQL of
/// each dialect beside it.
struct Project {
    name: String,
    dir: PathBuf,
}

impl Project {
    fn segc_out(&self) -> PathBuf {
        self.dir.join("segc-out")
    }

    fn sql(&self, dialect: &str, views: bool) -> PathBuf {
        let kind = if views { "views" } else { "sql" };
        self.dir.join(format!("{kind}-{dialect}"))
    }

    fn engine_out(&self, engine: &str, views: bool) -> PathBuf {
        let kind = if views { "views" } else { "rows" };
        self.dir.join(format!("{engine}-{kind}"))
    }
}

struct Prepared {
    _scratch: TempDir,
    projects: Vec<Project>,
}

/// The projects, run and compiled once for every engine test.
fn prepared() -> &'static Prepared {
    static PREPARED: OnceLock<Prepared> = OnceLock::new();
    PREPARED.get_or_init(|| {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let mut projects = Vec::new();

        let sample = scratch.path().join("sample");
        for item in ["segc.toml", "samples", "segments"] {
            let from = repo().join(item);
            if from.is_dir() {
                copy_tree(&from, &sample.join(item));
            } else {
                fs::create_dir_all(&sample).unwrap();
                fs::copy(&from, sample.join(item)).unwrap();
            }
        }
        projects.push(Project {
            name: "sample".into(),
            dir: sample,
        });

        let bench = scratch.path().join("bench");
        copy_tree(&repo().join("bench"), &bench);
        let generated = Command::new(super::differential::python())
            .arg(bench.join("gen_tables.py"))
            .arg(bench.join("data"))
            .arg("20000")
            .status()
            .expect("python runs");
        assert!(generated.success(), "gen_tables.py failed");
        projects.push(Project {
            name: "bench".into(),
            dir: bench,
        });

        // The evaluation fixtures (those with hand-worked `expected/` outputs) and the
        // fixture of every construct; the others hold broken projects on purpose.
        let mut fixtures: Vec<String> = fs::read_dir(repo().join("tests/fixtures"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|path| path.join("expected").is_dir() || path.ends_with("compile"))
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        fixtures.sort();
        for name in fixtures {
            let dir = scratch.path().join(format!("fixture-{name}"));
            copy_tree(&repo().join("tests/fixtures").join(&name), &dir);
            projects.push(Project {
                name: format!("fixture `{name}`"),
                dir,
            });
        }

        for project in &projects {
            let out = project.segc_out();
            let ran = segc(&project.dir, &["run", "--out", out.to_str().unwrap()]);
            assert_status(&ran, 0);
            for dialect in DIALECTS {
                for views in [false, true] {
                    let sql = project.sql(dialect, views);
                    let mut args = vec!["compile", "--dialect", dialect];
                    args.extend(["--out", sql.to_str().unwrap()]);
                    if views {
                        args.push("--views");
                    }
                    let compiled = segc(&project.dir, &args);
                    assert_status(&compiled, 0);
                }
            }
        }
        Prepared {
            _scratch: scratch,
            projects,
        }
    })
}

/// Python with the engine's client, or a failure that says what to install.
fn python_for(module: &str) -> &'static str {
    let python = super::differential::python();
    let found = Command::new(python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        found,
        "`{python}` cannot import `{module}`: the engine tests need it (`.ci/run` installs \
         it: `python3 -m pip install pyspark 'psycopg[binary]'`, `apt-get install \
         postgresql openjdk-17-jre-headless`)"
    );
    python
}

/// Runs every project's compiled SQL (and the script of views) on one engine, and compares
/// what it returns with what `segc run` wrote.
fn matches_segc_run(engine: &str, module: &str) {
    let python = python_for(module);
    let prepared = prepared();
    let mut jobs = Vec::new();
    for project in &prepared.projects {
        for views in [false, true] {
            jobs.push(serde_json::json!({
                "project": project.dir,
                "sql": project.sql(engine, views),
                "out": project.engine_out(engine, views),
                "views": views,
            }));
        }
    }
    jobs.push(casing_job(engine, &prepared.projects[0].dir));
    let manifest = prepared.projects[0].dir.join(format!("{engine}-jobs.json"));
    fs::write(&manifest, serde_json::to_string_pretty(&jobs).unwrap()).unwrap();

    let started = Instant::now();
    let ran = Command::new(python)
        .arg(repo().join("tests/compile/engines.py"))
        .arg(engine)
        .arg(&manifest)
        .output()
        .expect("python runs");
    assert!(
        ran.status.success(),
        "the {engine} run failed\n--- stdout\n{}\n--- stderr (last part)\n{}",
        stdout(&ran),
        tail(&stderr(&ran), 4000)
    );
    eprintln!(
        "{} ran {} jobs in {:.1} s",
        stdout(&ran).trim(),
        jobs.len(),
        started.elapsed().as_secs_f64()
    );

    let mut compared = 0;
    for project in &prepared.projects {
        let ours = csv_files(&project.segc_out());
        for views in [false, true] {
            let theirs = csv_files(&project.engine_out(engine, views));
            let names =
                |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
            assert_eq!(names(&theirs), names(&ours), "{} on {engine}", project.name);
            for ((file, want), (_, got)) in ours.iter().zip(&theirs) {
                assert_eq!(
                    got, want,
                    "{}: `{file}` from {engine} (views: {views}) differs from segc run",
                    project.name
                );
                compared += 1;
            }
        }
    }
    // The sample project alone has 30 segments; each is compared as a query and as a view.
    assert!(compared > 150, "only {compared} outputs compared");
}

/// A job that checks the engine's `lower` and `upper` on every code point against segc's
/// (Rust's), outside the characters the compiled SQL guards.
fn casing_job(engine: &str, dir: &Path) -> serde_json::Value {
    let path = dir.join(format!("case-mappings-{engine}.tsv"));
    {
        let hex = |text: String| -> String { text.bytes().map(|b| format!("{b:02x}")).collect() };
        let mut lines = String::new();
        for c in (1..=0x10FFFF).filter_map(char::from_u32) {
            let (lower, upper) = (c.to_lowercase().collect(), c.to_uppercase().collect());
            lines.push_str(&format!("{}\t{}\t{}\n", c as u32, hex(lower), hex(upper)));
        }
        fs::write(&path, lines).unwrap();
    }
    let dialect = match engine {
        "duckdb" => Dialect::DuckDb,
        "spark" => Dialect::Spark,
        _ => Dialect::Postgres,
    };
    serde_json::json!({
        "casing": path,
        "guards": {
            "lower": segc::compile::guarded(dialect, Function::Lower),
            "upper": segc::compile::guarded(dialect, Function::Upper),
        },
    })
}

fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[test]
fn compiled_sql_matches_segc_run_on_duckdb() {
    matches_segc_run("duckdb", "duckdb");
}

#[test]
fn compiled_sql_matches_segc_run_on_spark() {
    matches_segc_run("spark", "pyspark");
}

#[test]
fn compiled_sql_matches_segc_run_on_postgres() {
    matches_segc_run("postgres", "psycopg");
}

#[test]
fn compiled_sql_matches_the_reviewed_snapshots() {
    let bless = std::env::var_os("SEGC_BLESS").is_some();
    let dir = fixture("compile");
    let mut failures = Vec::new();
    for dialect in DIALECTS {
        for views in [false, true] {
            let mut args = vec!["compile", "--dialect", dialect];
            if views {
                args.push("--views");
            }
            let output = segc(dir.path(), &args);
            assert_status(&output, 0);
            let kind = if views { "views" } else { "statements" };
            let path = repo()
                .join("tests/compile/snapshots")
                .join(format!("{dialect}-{kind}.sql"));
            if bless {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, stdout(&output)).unwrap();
                continue;
            }
            let expected = fs::read_to_string(&path).unwrap_or_default();
            if stdout(&output) != expected {
                failures.push(format!(
                    "{}: the compiled SQL changed; review it and bless it with SEGC_BLESS=1",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compile_writes_one_file_per_segment_and_only_the_named_ones() {
    let dir = fixture("sets");
    let output = segc(
        dir.path(),
        &[
            "compile",
            "--dialect",
            "spark",
            "union_intersect",
            "--out",
            "sql",
        ],
    );
    assert_status(&output, 0);
    assert_eq!(stdout(&output), "");
    let files: Vec<String> = fs::read_dir(dir.path().join("sql"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["union_intersect.sql"]);
    let sql = read(&dir.path().join("sql/union_intersect.sql"));
    assert!(sql.starts_with("-- Segment `union_intersect`\n"), "{sql}");
    // The segments it reads come along as common table expressions.
    for cte in ["has_a AS (", "has_b AS (", "has_c AS ("] {
        assert!(sql.contains(cte), "{cte} in {sql}");
    }
}

#[test]
fn compile_reports_unknown_segments_and_dialects() {
    let dir = fixture("sets");
    let output = segc(dir.path(), &["compile", "--dialect", "duckdb", "has_x"]);
    assert_status(&output, 2);
    assert!(stderr(&output).contains("no segment named `has_x`"));
    let output = segc(dir.path(), &["compile", "--dialect", "oracle"]);
    assert_status(&output, 2);
    assert!(stderr(&output).contains("possible values: duckdb, spark, postgres"));
}

#[test]
fn compile_refuses_what_a_dialect_cannot_express() {
    let dir = fixture("nulls");
    fs::write(
        dir.path().join("segments/nul.seg"),
        "segment nul_tag {\n    from t\n    where Tag = \"a\\u{0}b\"\n}\n",
    )
    .unwrap();
    for (dialect, status) in [("duckdb", 0), ("postgres", 1), ("spark", 0)] {
        let output = segc(dir.path(), &["compile", "--dialect", dialect, "nul_tag"]);
        assert_status(&output, status);
        if status == 1 {
            let report = stderr(&output);
            assert!(report.contains("segc::unsupported"), "{report}");
            assert!(
                report.contains(&format!(
                    "a string with the NUL character cannot be compiled exactly for `{dialect}`"
                )),
                "{report}"
            );
            assert_eq!(stdout(&output), "", "no SQL beside an error");
        }
    }
}

#[test]
fn compile_counts_days_to_the_as_of_date_or_the_one_given() {
    let dir = fixture("compile");
    let output = segc(dir.path(), &["compile", "--dialect", "spark", "functions"]);
    assert_status(&output, 0);
    assert!(
        stdout(&output).contains("datediff(DATE '2024-06-30', `Joined`) <= 29"),
        "{}",
        stdout(&output)
    );
    let args = [
        "compile",
        "--dialect",
        "duckdb",
        "functions",
        "--as-of",
        "2025-01-31",
    ];
    let output = segc(dir.path(), &args);
    assert_status(&output, 0);
    assert!(
        stdout(&output).contains("DATE '2025-01-31' - \"Joined\" <= 29"),
        "{}",
        stdout(&output)
    );
    let args = ["compile", "--dialect", "duckdb", "--as-of", "June"];
    assert_status(&segc(dir.path(), &args), 2);
}

#[test]
fn compile_needs_no_data_files() {
    let dir = tempfile::tempdir().unwrap();
    for item in ["segc.toml", "samples", "segments"] {
        let from = repo().join(item);
        if from.is_dir() {
            copy_tree(&from, &dir.path().join(item));
        } else {
            fs::copy(&from, dir.path().join(item)).unwrap();
        }
    }
    let with_data = segc(dir.path(), &["compile", "--dialect", "spark"]);
    assert_status(&with_data, 0);
    // Where the tables live in a warehouse, only the declared and model types are known; the
    // sample's other columns are strings and dates, whose SQL does not depend on the type.
    fs::remove_dir_all(dir.path().join("samples")).unwrap();
    let without = segc(dir.path(), &["compile", "--dialect", "spark"]);
    assert_status(&without, 0);
    assert_eq!(stderr(&without), "");
    assert_eq!(stdout(&without), stdout(&with_data));
}
