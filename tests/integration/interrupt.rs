//! Runs killed at any moment and runs started together: the output folder always holds one
//! whole generation of outputs, and `summary.json` describes exactly the files beside it.
//!
//! Two projects, `a` and `b`, write to one output folder with `--out`. Their tables differ
//! in every row and are named differently, so every output file, `summary.json` included,
//! tells which project wrote it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use xxhash_rust::xxh3::xxh3_128;

use super::*;

/// Rows of the kill test's tables: enough for about 6.5 MB of outputs.
const KILL_ROWS: usize = 80_000;

/// Kills in the kill test: half spread over a whole run, half over its output stage.
const KILLS: usize = 32;

const SEGMENTS: &str = "\
segment all_rows {
    from t
    select Score, Region, Note
}

segment high {
    from t
    where Score >= 0.3
    select Score, Note
}

segment low {
    from t
    where Score < 0.7
    select Region, Note
}

segment regions {
    from t
    where Region != \"R7\"
}
";

/// Writes project `name` (`a` or `b`) under `root`: its table is `NAME.csv`, of `rows` rows
/// drawn from a generator seeded by the name.
fn project(root: &Path, name: &str, rows: usize) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(dir.join("segments")).unwrap();
    fs::write(
        dir.join("segc.toml"),
        format!(
            "key = \"CustomerId\"\nsegments = [\"segments/*.seg\"]\noutput = \"out\"\n\n\
             [tables.t]\npath = \"{name}.csv\"\n"
        ),
    )
    .unwrap();
    fs::write(dir.join("segments/all.seg"), SEGMENTS).unwrap();
    let mut state = u64::from(name.as_bytes()[0]).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64: any fixed sequence does; the two seeds give different tables.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut table = BufWriter::new(fs::File::create(dir.join(format!("{name}.csv"))).unwrap());
    writeln!(table, "CustomerId,Score,Region,Note").unwrap();
    for row in 0..rows {
        let score = (next() % 1_000_000) as f64 / 1e6;
        let region = next() % 50;
        let note = next() % 1_000_000_000;
        writeln!(table, "C{row:07},{score},R{region},{name}-{note}").unwrap();
    }
    table.flush().unwrap();
    dir
}

/// Starts `segc run --out OUT` in `project`, output streams captured.
fn start(project: &Path, out: &Path, verbose: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segc"));
    command.args(["run", "--out"]).arg(out).current_dir(project);
    if verbose {
        command.arg("--verbose");
    }
    command
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("segc starts")
}

/// The files of one run and its summary without the timings, which differ between runs.
#[derive(Debug, PartialEq)]
struct Generation {
    files: BTreeMap<String, Vec<u8>>,
    summary: Value,
}

/// Reads the output folder, asserting that it is one generation: every entry an output,
/// `summary.json` whole and listing every CSV with its size. [`assert_digests`] checks the
/// MD5 digests too; a folder equal to a generation checked that way needs no second check.
#[track_caller]
fn read_generation(out: &Path) -> Generation {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(out).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name == "summary.json" || (name.ends_with(".csv") && !name.starts_with('.')),
            "an entry of the output folder that no run writes: `{name}`"
        );
        files.insert(name, fs::read(entry.path()).unwrap());
    }
    let summary = files
        .remove("summary.json")
        .expect("the output folder has a `summary.json`");
    let mut summary: Value = serde_json::from_slice(&summary).unwrap_or_else(|error| {
        panic!(
            "`summary.json` is not whole: {error}\n{}",
            String::from_utf8_lossy(&summary)
        )
    });
    let listed = summary["segments"].as_array().unwrap();
    let mut names: Vec<&str> = listed
        .iter()
        .map(|s| s["output"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        "`summary.json` lists exactly the CSV files"
    );
    for segment in listed {
        let name = segment["output"].as_str().unwrap();
        assert_eq!(segment["bytes"], files[name].len(), "size of `{name}`");
    }
    for segment in summary["segments"].as_array_mut().unwrap() {
        segment.as_object_mut().unwrap().remove("time_ms");
    }
    for table in summary["tables"].as_array_mut().unwrap() {
        table.as_object_mut().unwrap().remove("load_ms");
    }
    Generation { files, summary }
}

/// Asserts that the summary gives the XXH3-128 digest of every file it lists.
#[track_caller]
fn assert_digests(generation: &Generation) {
    for segment in generation.summary["segments"].as_array().unwrap() {
        let name = segment["output"].as_str().unwrap();
        let digest = format!("{:032x}", xxh3_128(&generation.files[name]));
        assert_eq!(segment["xxh128"], digest.as_str(), "xxh128 of `{name}`");
    }
}

/// Where a killed run was when the kill landed, told from what it left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Loading, evaluating or building in memory: no staging folder yet, old outputs.
    BeforeOutput,
    /// Writing or linking into the staging folder: it is left, the old outputs in place.
    Staging,
    /// Between the exchange and the removal of the old set: new outputs, staging folder left.
    AfterExchange,
    /// The run had finished, or was only printing: new outputs, nothing left.
    Finished,
}

/// One run of project `dir` into `out`, measured: its length, and when it began staging.
fn measured_run(dir: &Path, out: &Path) -> (Duration, Duration) {
    let started = Instant::now();
    let mut child = start(dir, out, true);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut staging = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.starts_with("[segc] staging ") {
            staging = Some(started.elapsed());
        }
    }
    let status = child.wait().unwrap();
    let length = started.elapsed();
    assert!(status.success(), "a full run fails: {status}");
    (
        length,
        staging.expect("`--verbose` says when staging starts"),
    )
}

#[test]
fn a_killed_run_leaves_one_whole_generation() {
    let test_started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let a = project(root.path(), "a", KILL_ROWS);
    let b = project(root.path(), "b", KILL_ROWS);
    let out = root.path().join("out");

    measured_run(&a, &out);
    let generation_a = read_generation(&out);
    let (length, staging) = measured_run(&b, &out);
    let generation_b = read_generation(&out);
    assert_digests(&generation_a);
    assert_digests(&generation_b);
    let megabytes = generation_b.files.values().map(Vec::len).sum::<usize>() as f64 / 1e6;
    for (name, bytes) in &generation_a.files {
        assert_ne!(
            bytes, &generation_b.files[name],
            "`{name}` differs between a and b"
        );
    }
    assert_ne!(generation_a.summary, generation_b.summary);

    let mut current = 'b';
    let mut phases: BTreeMap<Phase, usize> = BTreeMap::new();
    let output_stage = length.saturating_sub(staging);
    for kill in 0..KILLS {
        let (next, dir) = if current == 'a' { ('b', &b) } else { ('a', &a) };
        let mut child = start(dir, &out, false);
        let staging_path = root.path().join(format!(".out.segc-new-{}", child.id()));
        let step = ((kill / 2) as f64 + 0.5) / (KILLS / 2) as f64;
        if kill % 2 == 0 {
            // Spread over the whole run.
            std::thread::sleep(length.mul_f64(step));
        } else {
            // Spread over the output stage, which is short and starts at a different moment
            // in every run: wait for the staging folder to appear first.
            let waited = Instant::now();
            while !staging_path.exists()
                && child.try_wait().unwrap().is_none()
                && waited.elapsed() < length * 4
            {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(output_stage.mul_f64(1.2 * step));
        }
        let exited = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();

        let staging_left = staging_path.exists();
        let found = read_generation(&out);
        let now = if found == generation_a {
            'a'
        } else if found == generation_b {
            'b'
        } else {
            panic!("kill {kill} left outputs of neither run");
        };
        let phase = match (now == next, staging_left) {
            (false, false) => Phase::BeforeOutput,
            (false, true) => Phase::Staging,
            (true, true) => Phase::AfterExchange,
            (true, false) => Phase::Finished,
        };
        assert!(
            !exited || phase == Phase::Finished,
            "kill {kill}: the run ended, yet its outputs are not in place"
        );
        *phases.entry(phase).or_default() += 1;
        current = now;
    }

    // The next run clears what the killed ones left beside the output folder.
    measured_run(&a, &out);
    assert_eq!(read_generation(&out), generation_a);
    let mut beside: Vec<String> = fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, [".out.segc-lock", "a", "b", "out"]);

    eprintln!(
        "{KILLS} kills over runs of {length:?} writing {megabytes:.1} MB, staging from \
         {staging:?}: {phases:?}; test took {:?}",
        test_started.elapsed()
    );
    let during_output = phases.get(&Phase::Staging).copied().unwrap_or(0)
        + phases.get(&Phase::AfterExchange).copied().unwrap_or(0);
    assert!(
        during_output > 0,
        "no kill landed while outputs were written: {phases:?}"
    );
}

#[test]
fn two_runs_on_one_folder_do_not_mix() {
    let root = tempfile::tempdir().unwrap();
    let a = project(root.path(), "a", 40_000);
    let b = project(root.path(), "b", 40_000);
    // Canonical, as the message names it.
    let out = fs::canonicalize(root.path()).unwrap().join("out");

    let first = start(&a, &out, false);
    let second = start(&b, &out, false);
    let outcomes: Vec<(char, Output)> = [('a', first), ('b', second)]
        .into_iter()
        .map(|(name, child)| (name, child.wait_with_output().unwrap()))
        .collect();

    let mut succeeded = Vec::new();
    for (name, output) in &outcomes {
        match output.status.code() {
            Some(0) => succeeded.push(*name),
            Some(1) => {
                let report = stderr(output);
                assert!(report.contains("segc::io"), "{report}");
                let message = format!("output folder `{}`", out.display());
                assert!(report.contains(&message), "{report}");
                assert!(
                    report.contains("is in use by another `segc run`"),
                    "{report}"
                );
            }
            _ => panic!(
                "run `{name}` ended with {}\n{}",
                output.status,
                stderr(output)
            ),
        }
    }
    assert!(!succeeded.is_empty(), "neither run succeeded");
    eprintln!("two runs started together: {succeeded:?} succeeded");
    let found = read_generation(&out);
    assert_digests(&found);
    let table = found.summary["tables"][0]["path"].as_str().unwrap();
    if let [only] = succeeded[..] {
        assert_eq!(table, format!("{only}.csv"));
    }
}

#[test]
fn a_run_on_a_locked_folder_stops_before_touching_it() {
    let dir = fixture("nulls");
    assert_status(&segc(dir.path(), &["run"]), 0);
    let before = csv_files(&dir.path().join("out"));
    let summary = read(&dir.path().join("out/summary.json"));

    // Hold the lock as a run would.
    let lock = fs::File::open(dir.path().join(".out.segc-lock")).unwrap();
    lock.lock().unwrap();
    fs::write(
        dir.path().join("t.csv"),
        "CustomerId,Score,Tag,Flag\nZ,0.5,x,true\n",
    )
    .unwrap();
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::io"), "{report}");
    assert!(
        report.contains("is in use by another `segc run`"),
        "{report}"
    );
    assert!(report.contains(".out.segc-lock"), "{report}");
    assert_eq!(csv_files(&dir.path().join("out")), before);
    assert_eq!(read(&dir.path().join("out/summary.json")), summary);

    drop(lock);
    assert_status(&segc(dir.path(), &["run"]), 0);
    assert_ne!(csv_files(&dir.path().join("out")), before);
}

#[test]
fn a_folder_inside_the_output_folder_is_refused_by_name() {
    let dir = fixture("nulls");
    assert_status(&segc(dir.path(), &["run"]), 0);
    fs::create_dir(dir.path().join("out/archive")).unwrap();
    fs::write(dir.path().join("out/archive/keep.csv"), "mine\n").unwrap();
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::io"), "{report}");
    assert!(
        report.contains("the output folder `out` holds a folder, `out/archive`"),
        "{report}"
    );
    assert_eq!(read(&dir.path().join("out/archive/keep.csv")), "mine\n");
}

#[test]
fn only_keeps_the_other_outputs_and_the_users_files() {
    let dir = fixture("sets");
    assert_status(&segc(dir.path(), &["run"]), 0);
    let out = dir.path().join("out");
    let before = csv_files(&out);
    assert!(before.len() > 2, "{before:?}");
    fs::write(out.join("README.txt"), "written by hand\n").unwrap();

    assert_status(&segc(dir.path(), &["run", "--only", "union_intersect"]), 0);
    assert_eq!(csv_files(&out), before);
    assert_eq!(read(&out.join("README.txt")), "written by hand\n");
    let summary: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let listed: Vec<&str> = summary["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["output"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["union_intersect.csv"]);
}
