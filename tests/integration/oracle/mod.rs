//! An independent oracle for `segc run`: random projects, evaluated twice.
//!
//! proptest draws projects of several worlds (1–3 small tables with overlapping keys,
//! nulls and ties, and 1–6 segments using every construct of the language); the real
//! binary runs each one, and every output file must equal, byte for byte, what the
//! reference evaluator in [`reference`] computes from SPEC.md alone. The exit status must
//! say whether an `expect` failed, and `summary.json` must count the same members.
//!
//! `SEGC_PROPTEST_CASES` sets the number of projects (each holds up to four worlds) and
//! `SEGC_PROPTEST_SEED` the seed; the default seed is fixed so that CI is repeatable. A
//! failing case is shrunk, and the smallest one is written to
//! `$CARGO_TARGET_TMPDIR/oracle-failure/` so that segc can be run on it by hand.

mod generate;
mod model;
mod reference;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use model::{Project, Source};

/// Projects per CI run: about a minute for a debug build on two cores.
const DEFAULT_CASES: u32 = 1000;

const DEFAULT_SEED: u64 = 0x5E6C_0AC1E;

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("${name} is not a number: {text}")),
    )
}

/// Where projects are written. segc syncs every output file before renaming it, which
/// costs milliseconds on a disk; thousands of runs go much faster on a memory file system
/// when the machine has one.
fn scratch_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && tempfile::tempdir_in(shm).is_ok() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn write_project(dir: &Path, project: &Project) {
    for (path, bytes) in render::project_files(project) {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().expect("a parent folder")).expect("create folder");
        fs::write(&path, bytes).expect("write a project file");
    }
}

/// The project's files as text, for a failure report.
fn describe(project: &Project) -> String {
    render::project_files(project)
        .into_iter()
        .map(|(path, bytes)| format!("--- {path}\n{}", String::from_utf8_lossy(&bytes)))
        .collect()
}

/// How much the generated segments exercise, counted over a run and printed at its end,
/// so that a generator that drifts into trivial segments shows.
struct Tally {
    projects: AtomicUsize,
    worlds: AtomicUsize,
    segments: AtomicUsize,
    /// Some members, but not every key of the source.
    partial: AtomicUsize,
    empty: AtomicUsize,
    ranked: AtomicUsize,
    selected_rows: AtomicUsize,
    split: AtomicUsize,
    failed_expects: AtomicUsize,
}

static TALLY: Tally = Tally {
    projects: AtomicUsize::new(0),
    worlds: AtomicUsize::new(0),
    segments: AtomicUsize::new(0),
    partial: AtomicUsize::new(0),
    empty: AtomicUsize::new(0),
    ranked: AtomicUsize::new(0),
    selected_rows: AtomicUsize::new(0),
    split: AtomicUsize::new(0),
    failed_expects: AtomicUsize::new(0),
};

fn count(counter: &AtomicUsize, yes: bool) {
    counter.fetch_add(usize::from(yes), Ordering::Relaxed);
}

fn tally(segment: &model::Segment, outcome: &reference::Outcome, source_keys: usize) {
    let members = outcome.members.len();
    count(&TALLY.segments, true);
    count(&TALLY.empty, members == 0);
    count(&TALLY.partial, members > 0 && members < source_keys);
    count(
        &TALLY.ranked,
        matches!(&segment.source, Source::From(f) if f.rank.is_some()),
    );
    count(
        &TALLY.selected_rows,
        outcome.rows.as_ref().is_some_and(|r| !r.is_empty()),
    );
    count(&TALLY.split, segment.split.is_some() && members > 0);
    count(&TALLY.failed_expects, outcome.expects.contains(&false));
}

fn tally_report() -> String {
    let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    format!(
        "{} projects run (shrinking included), {} worlds, {} segments: {} with some but not \
         all keys, {} empty, {} ranked, {} with selected rows, {} split, {} with a failed \
         expect",
        get(&TALLY.projects),
        get(&TALLY.worlds),
        get(&TALLY.segments),
        get(&TALLY.partial),
        get(&TALLY.empty),
        get(&TALLY.ranked),
        get(&TALLY.selected_rows),
        get(&TALLY.split),
        get(&TALLY.failed_expects)
    )
}

/// What summary.json should say of a segment: members, expectations by text with whether
/// they hold, and the source table's keys for a `from` segment.
type Summary = (usize, Vec<(String, bool)>, Option<usize>);

/// What the reference says a run writes: every output file by name, and what summary.json
/// should say of each segment.
fn reference_outputs(project: &Project) -> (BTreeMap<String, String>, BTreeMap<String, Summary>) {
    let as_of = reference::parse_date(&project.as_of).expect("as_of is a date");
    let mut files = BTreeMap::new();
    let mut summaries = BTreeMap::new();
    for (w, world) in project.worlds.iter().enumerate() {
        let data: Vec<reference::Data> = world.tables.iter().map(reference::Data::load).collect();
        let outcomes = reference::evaluate(world, &data, as_of);
        let all_keys: BTreeSet<&str> = world
            .tables
            .iter()
            .flat_map(|t| t.rows.iter().map(|r| r.key.as_str()))
            .collect();
        for (i, (segment, outcome)) in world.segments.iter().zip(&outcomes).enumerate() {
            tally(
                segment,
                outcome,
                outcome.source_keys.unwrap_or(all_keys.len()),
            );
            let name = render::segment_name(w, segment);
            files.insert(
                format!("{name}.csv"),
                reference::expected_csv(world, &data, i, outcome),
            );
            // Clauses are written in a shuffled order, so expectations are matched by
            // their text.
            let mut expects: Vec<(String, bool)> = segment
                .expects
                .iter()
                .map(render::expect_clause)
                .zip(outcome.expects.iter().copied())
                .collect();
            expects.sort();
            summaries.insert(name, (outcome.members.len(), expects, outcome.source_keys));
        }
    }
    (files, summaries)
}

/// The CSV files segc wrote, by name.
fn written_outputs(out: &Path, stderr: &str) -> Result<BTreeMap<String, String>, TestCaseError> {
    let listing = fs::read_dir(out)
        .map_err(|e| TestCaseError::fail(format!("no out/ ({e}); segc said:\n{stderr}")))?;
    let mut written = BTreeMap::new();
    for entry in listing {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = fs::read(&path).expect("read an output");
            written.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(written)
}

/// summary.json's member counts, source keys and expectation outcomes against the
/// reference's.
fn compare_summary(out: &Path, summaries: &BTreeMap<String, Summary>) -> Result<(), TestCaseError> {
    let text = fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    for segment in summary["segments"].as_array().expect("a segment list") {
        let name = segment["name"].as_str().expect("a name");
        let (members, expects, source_keys) = &summaries[name];
        let mut passed: Vec<(String, bool)> = segment["expects"]
            .as_array()
            .expect("an expect list")
            .iter()
            .map(|e| {
                let text = e["expect"].as_str().expect("an expect's text").to_string();
                (text, e["passed"].as_bool().expect("passed"))
            })
            .collect();
        passed.sort();
        let keys = segment["source_keys"].as_u64().map(|k| k as usize);
        let keys_differ = source_keys.is_some() && keys != *source_keys;
        if segment["members"].as_u64() != Some(*members as u64) || &passed != expects || keys_differ
        {
            return Err(TestCaseError::fail(format!(
                "summary.json for `{name}`: {segment}\nexpected {members} members, \
                 source keys {source_keys:?}, expects passed {expects:?}"
            )));
        }
    }
    Ok(())
}

/// Runs segc on one project and compares everything it wrote with the reference.
fn check(project: &Project, base: &Path) -> Result<(), TestCaseError> {
    let run = TALLY.projects.fetch_add(1, Ordering::Relaxed) + 1;
    TALLY
        .worlds
        .fetch_add(project.worlds.len(), Ordering::Relaxed);
    if run.is_multiple_of(1000) {
        // A long run says how far it got.
        eprintln!("oracle: {run} projects so far");
    }

    let dir = tempfile::Builder::new()
        .prefix("segc-oracle")
        .tempdir_in(base)
        .expect("a scratch folder");
    write_project(dir.path(), project);
    let threads = project.threads.to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_segc"))
        .args(["run", "--threads", &threads])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("segc runs");
    let stderr = String::from_utf8_lossy(&output.stderr);

    let (expected, summaries) = reference_outputs(project);
    let any_failed = summaries
        .values()
        .any(|(_, expects, _)| expects.iter().any(|(_, passed)| !passed));
    let status = output.status.code();
    let want = if any_failed { 1 } else { 0 };
    if status != Some(want) {
        return Err(TestCaseError::fail(format!(
            "segc exited with {status:?}, not {want} (an expect fails: {any_failed})\n{stderr}"
        )));
    }

    let out = dir.path().join("out");
    let written = written_outputs(&out, &stderr)?;
    let names = |files: &BTreeMap<String, String>| files.keys().cloned().collect::<Vec<_>>();
    if names(&written) != names(&expected) {
        return Err(TestCaseError::fail(format!(
            "output files: segc wrote {:?}, expected {:?}",
            names(&written),
            names(&expected)
        )));
    }
    for (file, want) in &expected {
        let got = &written[file];
        if got != want {
            return Err(TestCaseError::fail(format!(
                "`{file}` differs\n--- expected\n{want}--- segc wrote\n{got}"
            )));
        }
    }
    compare_summary(&out, &summaries)
}

#[test]
fn segc_run_agrees_with_the_reference_evaluator() {
    let cases = env_number("SEGC_PROPTEST_CASES").map_or(DEFAULT_CASES, |n| n as u32);
    let seed = env_number("SEGC_PROPTEST_SEED").unwrap_or(DEFAULT_SEED);
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        // Each step of shrinking runs segc; a few minutes of it is plenty.
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let base = scratch_base();
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&generate::project(1..=4), |project| check(&project, &base));
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => eprintln!(
            "oracle: {cases} projects agreed (seed {seed}) in {seconds:.1} s\n{}",
            tally_report()
        ),
        Err(TestError::Fail(reason, project)) => {
            let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oracle-failure");
            let _ = fs::remove_dir_all(&keep);
            write_project(&keep, &project);
            let worlds: usize = project.worlds.len();
            let segments: usize = project.worlds.iter().map(|w| w.segments.len()).sum();
            let froms = project
                .worlds
                .iter()
                .flat_map(|w| &w.segments)
                .filter(|s| matches!(s.source, Source::From(_)))
                .count();
            panic!(
                "segc and the reference disagree (seed {seed}): {reason}\n\
                 smallest project ({worlds} worlds, {segments} segments, {froms} from a \
                 table), kept in {}:\n{}",
                keep.display(),
                describe(&project)
            );
        }
        Err(TestError::Abort(reason)) => panic!("proptest gave up: {reason}"),
    }
}
