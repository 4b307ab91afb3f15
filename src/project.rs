//! A project on disk: segc.toml and the `.seg` files its globs name, read and parsed.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{self, Config, CONFIG_FILE};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, SourceMap};
use crate::syntax::{self, ast::SegFile};

/// A parsed project. Files that failed to parse are absent from `files`; their syntax
/// errors are in the diagnostics returned beside the project.
#[derive(Debug)]
pub struct Project {
    pub config: Config,
    pub files: Vec<(FileId, SegFile)>,
    /// The files named on the command line, when some were: reports are limited to them.
    pub selected: Option<Vec<FileId>>,
}

/// Why a project could not be opened at all (exit status 2 territory when there is no
/// configuration to speak of).
#[derive(Debug)]
pub enum OpenError {
    /// No segc.toml in the folder or any parent.
    NotFound(PathBuf),
    /// segc.toml exists but is malformed: reported as findings.
    Invalid(Vec<Diagnostic>),
}

/// Reads segc.toml from `root` and every `.seg` file its globs match, plus `paths` (files,
/// or folders standing for the `.seg` files below them), and parses them. Syntax errors come
/// back as diagnostics; the project holds the files that parsed.
pub fn open(
    root: &Path,
    paths: &[PathBuf],
    sources: &SourceMap,
) -> Result<(Project, Vec<Diagnostic>), OpenError> {
    let config = read_config(root, sources)?;
    let mut diagnostics = Vec::new();
    let mut seg_paths = discover(&config, &mut diagnostics);
    let named = explicit(root, paths, &mut diagnostics);
    for path in &named {
        if !seg_paths.iter().any(|known| known.0 == path.0) {
            seg_paths.push(path.clone());
        }
    }

    let texts: Vec<(String, Result<String, std::io::Error>)> = seg_paths
        .into_par_iter()
        .map(|(display, path)| (display, std::fs::read_to_string(path)))
        .collect();
    let mut registered = Vec::new();
    let mut selected = Vec::new();
    for (display, text) in texts {
        match text {
            Ok(text) => {
                let file = sources.add(display.clone(), text.as_str());
                if named.iter().any(|(name, _)| *name == display) {
                    selected.push(file);
                }
                registered.push((file, text));
            }
            Err(error) => diagnostics.push(Diagnostic::new(
                Code::Io,
                format!("cannot read `{display}`: {error}"),
            )),
        }
    }
    let parsed: Vec<(FileId, Result<SegFile, Diagnostic>)> = registered
        .par_iter()
        .map(|(file, text)| (*file, syntax::parse_file(*file, text)))
        .collect();
    let mut files = Vec::new();
    for (file, result) in parsed {
        match result {
            Ok(seg_file) => files.push((file, seg_file)),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    let selected = (!paths.is_empty()).then_some(selected);
    Ok((
        Project {
            config,
            files,
            selected,
        },
        diagnostics,
    ))
}

/// `.seg` files, each with the name to show for it, in the order to work on them.
pub type SegPaths = Vec<(String, PathBuf)>;

/// Reads and parses segc.toml in `root`.
fn read_config(root: &Path, sources: &SourceMap) -> Result<Config, OpenError> {
    let config_path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            OpenError::NotFound(root.to_path_buf())
        } else {
            OpenError::Invalid(vec![Diagnostic::new(
                Code::Io,
                format!("cannot read `{}`: {error}", config_path.display()),
            )])
        }
    })?;
    let file = sources.add(CONFIG_FILE, text);
    config::parse(root, file, sources).map_err(OpenError::Invalid)
}

/// The `.seg` files the globs of segc.toml in `root` match, named relative to `root`,
/// without reading them; bad globs come back as diagnostics.
pub fn seg_files(
    root: &Path,
    sources: &SourceMap,
) -> Result<(SegPaths, Vec<Diagnostic>), OpenError> {
    let config = read_config(root, sources)?;
    let mut diagnostics = Vec::new();
    let files = discover(&config, &mut diagnostics);
    Ok((files, diagnostics))
}

/// The `.seg` files that `paths` name, each named as given: a file itself, a folder the
/// `.seg` files at any depth below it (in name order; hidden folders such as `.git` and
/// symbolic links to folders are not entered). Relative paths are taken from `base`. A path
/// that does not exist is a diagnostic; a file named twice is listed once.
pub fn named_seg_files(
    base: &Path,
    paths: &[PathBuf],
    diagnostics: &mut Vec<Diagnostic>,
) -> SegPaths {
    let mut found = Vec::new();
    for given in paths {
        let path = base.join(given);
        if path.is_dir() {
            walk(&path, given, &mut found, diagnostics);
        } else if path.is_file() {
            found.push((given.display().to_string(), path));
        } else {
            diagnostics.push(Diagnostic::new(
                Code::Io,
                format!("`{}` does not exist", given.display()),
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|(_, path)| seen.insert(std::fs::canonicalize(path).unwrap_or(path.clone())));
    found
}

/// Adds the `.seg` files below `dir`, at any depth, named below `name`.
fn walk(
    dir: &Path,
    name: &Path,
    found: &mut Vec<(String, PathBuf)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            diagnostics.push(Diagnostic::new(
                Code::Io,
                format!("cannot read folder `{}`: {error}", name.display()),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let child = name.join(entry.file_name());
        // The entry's own type, not its target's: a link to a folder could lead in a circle.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() && !hidden {
            walk(&path, &child, found, diagnostics);
        } else if path.extension().is_some_and(|e| e == "seg") && path.is_file() {
            found.push((child.display().to_string(), path));
        }
    }
}

/// The files the configured globs match, sorted, each once.
fn discover(config: &Config, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for pattern in &config.segments {
        let full = config.root.join(pattern);
        let Some(full) = full.to_str() else { continue };
        match glob::glob(full) {
            Ok(paths) => {
                for path in paths.flatten() {
                    if path.is_file() {
                        found.push((display_name(&config.root, &path), path));
                    }
                }
            }
            Err(error) => diagnostics.push(
                Diagnostic::new(
                    Code::Config,
                    format!("bad segments glob `{pattern}`: {error}"),
                )
                .help("globs look like `segments/**/*.seg`"),
            ),
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Files named on the command line; a folder stands for the `.seg` files below it.
fn explicit(
    root: &Path,
    paths: &[PathBuf],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let pattern = path.join("**").join("*.seg");
            if let Some(paths) = pattern.to_str().and_then(|p| glob::glob(p).ok()) {
                found.extend(paths.flatten().map(|p| (display_name(root, &p), p)));
            }
        } else if path.is_file() {
            found.push((display_name(root, path), path.clone()));
        } else {
            diagnostics.push(Diagnostic::new(
                Code::Io,
                format!("`{}` does not exist", path.display()),
            ));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A path relative to the project root where it lies inside it, with `/` separators.
pub fn display_name(root: &Path, path: &Path) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let relative = absolute(path)
        .strip_prefix(absolute(root))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    relative.to_string_lossy().replace('\\', "/")
}
