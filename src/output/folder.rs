//! The output folder of a run: an advisory lock that keeps two runs apart, and the switch
//! from the previous outputs to the new ones in one step.
//!
//! A run stages its files in a fresh sibling of the output folder, `.NAME.segc-new-PID`, so
//! that both sit on one filesystem. The files of the output folder that the run does not
//! rewrite (other segments under `--only`, files a user put there) are hard-linked into the
//! staging folder, which then changes places with the output folder through
//! `renameat2(RENAME_EXCHANGE)`: a reader, or a run killed at any moment, sees either the
//! whole previous set or the whole new one. The previous set, now under the staging name, is
//! removed afterwards. A folder inside the output folder cannot be hard-linked, so a run
//! refuses such an output folder rather than drop the folder.
//!
//! Where the exchange is not available (another system, a filesystem without it, an output
//! folder that is a mount point), the files are renamed into place one by one instead; see
//! [`Method::PerFile`] for what that guarantees.
//!
//! The lock file, `.NAME.segc-lock`, lives beside the output folder and stays there. Only
//! the holder of the lock stages anything, so a staging folder or temporary file that the
//! holder finds was left by a run that was killed, and is removed.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{write, Outputs, Written};

/// The summary's file name: the per-file method removes the old one first, writes it last.
const SUMMARY: &str = super::SUMMARY_FILE;

/// An output folder claimed by this process for one run. The lock is held until the value
/// is dropped, and is released by the system if the process dies.
#[derive(Debug)]
pub struct OutputFolder {
    /// The output folder, with symbolic links resolved.
    dir: PathBuf,
    /// The folder that holds it, where the lock file and the staging folder go.
    parent: PathBuf,
    /// The output folder's own name.
    name: OsString,
    _lock: File,
    notes: Vec<String>,
}

/// How a run's outputs reached the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// The staging folder changed places with the existing output folder in one step.
    Exchanged,
    /// There was no output folder yet: the staging folder was renamed to it.
    Created,
    /// The exchange was not available, for the reason given: each file was written under a
    /// temporary name in the output folder and renamed into place. The previous
    /// `summary.json` is removed before the first rename and the new one renamed last, so a
    /// `summary.json`, when there is one, describes the files it lists; a run killed between
    /// the renames leaves no summary and a mix of old and new files.
    PerFile { reason: String },
}

/// Why an output folder could not be claimed or written.
#[derive(Debug)]
pub enum FolderError {
    /// Another process holds the lock on the folder.
    Busy { dir: PathBuf, lock: PathBuf },
    /// The output folder holds a folder, which segc cannot carry into the new output folder.
    Subfolder { dir: PathBuf, entry: OsString },
    /// The output path names something other than a folder.
    NotAFolder(PathBuf),
    /// A call to the filesystem failed.
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },
}

impl fmt::Display for FolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FolderError::Busy { dir, .. } => write!(
                f,
                "output folder `{}` is in use by another `segc run`",
                dir.display()
            ),
            FolderError::Subfolder { dir, entry } => write!(
                f,
                "output folder `{}` holds a folder that segc did not write: `{}`",
                dir.display(),
                entry.to_string_lossy()
            ),
            FolderError::NotAFolder(path) => {
                write!(f, "output path `{}` is not a folder", path.display())
            }
            FolderError::Io {
                action,
                path,
                error,
            } => write!(f, "cannot {action} `{}`: {error}", path.display()),
        }
    }
}

impl FolderError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        match self {
            FolderError::Busy { lock, .. } => format!(
                "wait for that run to finish, or write elsewhere with `--out DIR`; the run \
                 holds a lock on `{}`",
                lock.display()
            ),
            FolderError::Subfolder { entry, .. } => format!(
                "`segc run` replaces the output folder as a whole and carries over files \
                 only; move `{}` elsewhere, or write elsewhere with `--out DIR`",
                entry.to_string_lossy()
            ),
            FolderError::NotAFolder(_) => {
                "name a folder with `output` in segc.toml or with `--out DIR`".to_string()
            }
            FolderError::Io { .. } => "check that the output folder and the folder that holds \
                                       it are writable"
                .to_string(),
        }
    }
}

impl OutputFolder {
    /// Claims `dir` for one run, without waiting: takes the lock beside it, removes what
    /// killed runs left behind, and checks that the folder can be replaced as a whole. The
    /// folder that holds `dir` is created if missing; `dir` itself only when publishing.
    pub fn claim(dir: &Path) -> Result<OutputFolder, FolderError> {
        let (parent, name) = locate(dir)?;
        let lock_path = parent.join(lock_name(&name));
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_error("create the lock file", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(FolderError::Busy {
                    dir: parent.join(&name),
                    lock: lock_path,
                })
            }
            Err(TryLockError::Error(error)) => {
                return Err(FolderError::Io {
                    action: "lock",
                    path: lock_path,
                    error,
                })
            }
        }
        let mut folder = OutputFolder {
            dir: parent.join(&name),
            parent,
            name,
            _lock: lock,
            notes: Vec::new(),
        };
        folder.remove_stale()?;
        folder.check_entries()?;
        Ok(folder)
    }

    /// The output folder, with symbolic links resolved.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// What claiming did beyond taking the lock, for `--verbose`.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Writes `outputs` into the output folder as one new generation (see the module docs).
    /// `log` receives each step, for `--verbose`. On an error, the previous outputs are
    /// whole unless the method was [`Method::PerFile`] and the error came while renaming.
    pub fn publish(&self, outputs: &Outputs, log: &dyn Fn(String)) -> Result<Method, FolderError> {
        if !cfg!(any(target_os = "linux", target_os = "android")) {
            let reason = "folders can be exchanged in one step only on Linux".to_string();
            return self.publish_per_file(outputs, reason, log);
        }
        let staging = self
            .parent
            .join(staging_name(&self.name, std::process::id()));
        log(format!(
            "staging {} files in `{}`",
            outputs.len(),
            staging.display()
        ));
        fs::create_dir(&staging).map_err(io_error("create the staging folder", &staging))?;
        match self.stage(&staging, outputs) {
            Ok(Staged::Switched { method, carried }) => {
                if method == Method::Exchanged {
                    self.retire(&staging, outputs, &carried, log);
                }
                Ok(method)
            }
            Ok(Staged::Unsupported(reason)) => {
                let _ = fs::remove_dir_all(&staging);
                self.publish_per_file(outputs, reason, log)
            }
            Err(error) => {
                let _ = fs::remove_dir_all(&staging);
                Err(error)
            }
        }
    }

    /// Writes the outputs into `staging`, carries the other files over, and puts the
    /// staging folder in the output folder's place. The switch is the last step that can
    /// fail: an error before it leaves the output folder as it was.
    fn stage(&self, staging: &Path, outputs: &Outputs) -> Result<Staged, FolderError> {
        write_files(staging, outputs, |name| name.into())?;
        let exists = self.dir.is_dir();
        let mut carried = Vec::new();
        if exists {
            let written: HashSet<&OsStr> = outputs.all_names().map(OsStr::new).collect();
            for entry in read_dir(&self.dir)? {
                let name = entry.file_name();
                if written.contains(name.as_os_str()) || is_temporary(&name) {
                    continue;
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    return Err(FolderError::Subfolder {
                        dir: self.dir.clone(),
                        entry: name,
                    });
                }
                match fs::hard_link(entry.path(), staging.join(&name)) {
                    Ok(()) => carried.push(name),
                    Err(error) if link_unsupported(&error) => {
                        return Ok(Staged::Unsupported(format!(
                            "cannot hard-link `{}` into the staging folder: {error}",
                            entry.path().display()
                        )))
                    }
                    Err(error) => return Err(io_error("hard-link", &entry.path())(error)),
                }
            }
            // The new folder takes the place of the old one, so it takes its permissions.
            let permissions = fs::metadata(&self.dir)
                .map_err(io_error("read", &self.dir))?
                .permissions();
            fs::set_permissions(staging, permissions)
                .map_err(io_error("set the permissions of", staging))?;
        }
        sync_folder(staging);

        let method = if exists {
            match exchange(staging, &self.dir) {
                Ok(()) => Method::Exchanged,
                Err(Exchange::Unsupported(reason)) => return Ok(Staged::Unsupported(reason)),
                Err(Exchange::Failed(error)) => {
                    return Err(io_error("exchange the staging folder with", &self.dir)(
                        error,
                    ))
                }
            }
        } else {
            fs::rename(staging, &self.dir)
                .map_err(io_error("rename the staging folder to", &self.dir))?;
            Method::Created
        };
        sync_folder(&self.parent);
        Ok(Staged::Switched { method, carried })
    }

    /// Removes the previous generation, now in `old` after the exchange. An entry that is
    /// neither an output of this run nor carried over was added to the output folder while
    /// the run staged: it moves into the new output folder instead of being deleted.
    fn retire(&self, old: &Path, outputs: &Outputs, carried: &[OsString], log: &dyn Fn(String)) {
        let known: HashSet<&OsStr> = outputs
            .all_names()
            .map(OsStr::new)
            .chain(carried.iter().map(OsString::as_os_str))
            .collect();
        let entries = match read_dir(old) {
            Ok(entries) => entries,
            Err(error) => {
                log(format!(
                    "left the previous outputs in `{}`: {error}",
                    old.display()
                ));
                return;
            }
        };
        for entry in entries {
            let name = entry.file_name();
            let path = entry.path();
            let target = self.dir.join(&name);
            let moved = !known.contains(name.as_os_str())
                && !is_temporary(&name)
                && fs::symlink_metadata(&target).is_err()
                && fs::rename(&path, &target).is_ok();
            if moved {
                log(format!(
                    "moved `{}`, added during the run, into the new output folder",
                    name.to_string_lossy()
                ));
            } else if let Err(error) = remove_entry(&path) {
                log(format!("cannot remove `{}`: {error}", path.display()));
            }
        }
        match fs::remove_dir(old) {
            Ok(()) => sync_folder(&self.parent),
            Err(error) => log(format!("cannot remove `{}`: {error}", old.display())),
        }
    }

    /// The fallback where folders cannot be exchanged; see [`Method::PerFile`].
    fn publish_per_file(
        &self,
        outputs: &Outputs,
        reason: String,
        log: &dyn Fn(String),
    ) -> Result<Method, FolderError> {
        log(format!(
            "warning: {reason}; replacing the outputs file by file, so a run killed now can \
             leave a mix of old and new files, without `summary.json`"
        ));
        fs::create_dir_all(&self.dir).map_err(io_error("create", &self.dir))?;
        let pid = std::process::id();
        write_files(&self.dir, outputs, |name| temporary_name(name, pid))?;
        let temporary = |name: &str| self.dir.join(temporary_name(name, pid));

        let summary = self.dir.join(SUMMARY);
        if let Err(error) = fs::remove_file(&summary) {
            if error.kind() != io::ErrorKind::NotFound {
                for name in outputs.all_names() {
                    let _ = fs::remove_file(temporary(name));
                }
                return Err(io_error("remove", &summary)(error));
            }
        }
        let (last, first): (Vec<&str>, Vec<&str>) =
            outputs.all_names().partition(|name| *name == SUMMARY);
        for name in first.into_iter().chain(last) {
            let target = self.dir.join(name);
            fs::rename(temporary(name), &target).map_err(io_error("rename a file to", &target))?;
        }
        sync_folder(&self.dir);
        Ok(Method::PerFile { reason })
    }

    /// Removes the staging folders beside the output folder and the temporary files inside
    /// it: only the holder of the lock makes them, so whatever is found now has no owner.
    fn remove_stale(&mut self) -> Result<(), FolderError> {
        let prefix = staging_prefix(&self.name);
        let mut stale: Vec<PathBuf> = read_dir(&self.parent)?
            .into_iter()
            .filter(|entry| is_staging(&entry.file_name(), &prefix))
            .map(|entry| entry.path())
            .collect();
        if self.dir.is_dir() {
            stale.extend(
                read_dir(&self.dir)?
                    .into_iter()
                    .filter(|entry| is_temporary(&entry.file_name()))
                    .map(|entry| entry.path()),
            );
        }
        for path in stale {
            match remove_entry(&path) {
                Ok(()) => self.notes.push(format!(
                    "removed `{}`, left by a run that was stopped",
                    path.display()
                )),
                Err(error) => self.notes.push(format!(
                    "cannot remove `{}`, left by a run that was stopped: {error}",
                    path.display()
                )),
            }
        }
        Ok(())
    }

    /// Refuses an output folder that holds a folder, before any work: segc carries files
    /// over by hard link, and a folder cannot be linked.
    fn check_entries(&self) -> Result<(), FolderError> {
        let metadata = match fs::symlink_metadata(&self.dir) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(io_error("read", &self.dir)(error)),
        };
        if !metadata.is_dir() {
            return Err(FolderError::NotAFolder(self.dir.clone()));
        }
        for entry in read_dir(&self.dir)? {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                return Err(FolderError::Subfolder {
                    dir: self.dir.clone(),
                    entry: entry.file_name(),
                });
            }
        }
        Ok(())
    }
}

/// The outcome of staging.
enum Staged {
    /// The staging folder took the output folder's place; `carried` were hard-linked.
    Switched {
        method: Method,
        carried: Vec<OsString>,
    },
    /// Folders cannot be switched here, for the reason given; nothing was changed.
    Unsupported(String),
}

/// Why an exchange failed.
enum Exchange {
    /// The system or filesystem cannot do it: fall back.
    Unsupported(String),
    /// Any other failure: an error.
    Failed(io::Error),
}

/// Swaps two folders of one filesystem in one step.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(first: &Path, second: &Path) -> Result<(), Exchange> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;

    renameat_with(CWD, first, CWD, second, RenameFlags::EXCHANGE).map_err(|errno| {
        // EINVAL and ENOSYS: the filesystem or kernel lacks the flag; EXDEV and EBUSY: the
        // output folder is a mount point, so its staging sibling is on another filesystem.
        let unsupported = [
            Errno::INVAL,
            Errno::NOSYS,
            Errno::OPNOTSUPP,
            Errno::XDEV,
            Errno::BUSY,
        ];
        if unsupported.contains(&errno) {
            Exchange::Unsupported(format!(
                "`renameat2` cannot exchange `{}` with its staging folder: {}",
                second.display(),
                io::Error::from(errno)
            ))
        } else {
            Exchange::Failed(errno.into())
        }
    })
}

/// Other systems never reach this: `publish` takes the per-file method there.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_first: &Path, _second: &Path) -> Result<(), Exchange> {
    Err(Exchange::Unsupported(
        "folders can be exchanged in one step only on Linux".to_string(),
    ))
}

/// Whether a failed hard link means the filesystem cannot link here, rather than a fault.
fn link_unsupported(error: &io::Error) -> bool {
    // EXDEV: the output folder is a mount point; EPERM: a filesystem without hard links or
    // a file the kernel's link protection keeps us from linking.
    matches!(
        error.kind(),
        io::ErrorKind::CrossesDevices
            | io::ErrorKind::Unsupported
            | io::ErrorKind::PermissionDenied
    )
}

/// The parent of the output folder and its name, with symbolic links resolved so that every
/// path to one folder leads to one lock. Creates the parent when it is missing.
fn locate(dir: &Path) -> Result<(PathBuf, OsString), FolderError> {
    let absolute = std::path::absolute(dir).map_err(io_error("resolve", dir))?;
    let real = match fs::canonicalize(&absolute) {
        Ok(real) => real,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                return Err(FolderError::NotAFolder(dir.to_path_buf()));
            };
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
            fs::canonicalize(parent)
                .map_err(io_error("resolve", parent))?
                .join(name)
        }
        Err(error) => return Err(io_error("resolve", &absolute)(error)),
    };
    match (real.parent(), real.file_name()) {
        (Some(parent), Some(name)) => Ok((parent.to_path_buf(), name.to_os_string())),
        _ => Err(FolderError::Io {
            action: "use as the output folder",
            path: real,
            error: io::Error::other("it has no parent folder to stage the outputs in"),
        }),
    }
}

/// `.NAME.segc-lock`, the lock file beside the output folder `NAME`.
fn lock_name(name: &OsStr) -> OsString {
    let mut lock = OsString::from(".");
    lock.push(name);
    lock.push(".segc-lock");
    lock
}

/// `.NAME.segc-new-`, followed by a process id in a staging folder's name.
fn staging_prefix(name: &OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".segc-new-");
    prefix
}

fn staging_name(name: &OsStr, pid: u32) -> OsString {
    let mut staging = staging_prefix(name);
    staging.push(pid.to_string());
    staging
}

fn is_staging(entry: &OsStr, prefix: &OsStr) -> bool {
    entry
        .as_encoded_bytes()
        .strip_prefix(prefix.as_encoded_bytes())
        .is_some_and(|pid| !pid.is_empty() && pid.iter().all(u8::is_ascii_digit))
}

/// `.FILE.segc-PID.tmp`, a file being written by the per-file method.
fn temporary_name(name: &str, pid: u32) -> OsString {
    format!(".{name}.segc-{pid}.tmp").into()
}

fn is_temporary(entry: &OsStr) -> bool {
    let Some(name) = entry.to_str() else {
        return false;
    };
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    rest.rsplit_once(".segc-")
        .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// About how many bytes of member lists a worker makes at once.
const GROUP_BYTES: usize = 16 << 20;

/// Makes and writes the member lists into `dir` in parallel, under the names `name_of`
/// gives, a group of lists at a time, then `summary.json` with what was written. A thread
/// of its own syncs each file to disk once written, so the workers go on making files
/// meanwhile; every file is synced before this returns. On error, removes what it wrote.
fn write_files(
    dir: &Path,
    outputs: &Outputs<'_>,
    name_of: impl Fn(&str) -> OsString + Sync,
) -> Result<(), FolderError> {
    let (to_sync, synced) = std::sync::mpsc::channel::<File>();
    // Durability on power loss is a bonus: a filesystem that cannot sync still gets whole
    // files, as a kill leaves the page cache intact.
    let syncer =
        std::thread::spawn(move || synced.into_iter().for_each(|file| drop(file.sync_all())));
    let write = |name: &str, bytes: &[u8], buffer: &mut Vec<u8>| -> Result<PathBuf, FolderError> {
        let path = dir.join(name_of(name));
        let file = write::write_file(&path, bytes, buffer, write::DIRECT_FROM)
            .map_err(io_error("write", &path))?;
        // The syncer is gone only if it panicked; the file is then synced here.
        if let Err(unsent) = to_sync.send(file) {
            unsent.0.sync_all().ok();
        }
        Ok(path)
    };
    // Lists are made a group at a time (see `Outputs::groups`); each worker keeps its
    // buffers from one group to the next.
    let lists: Vec<Result<(PathBuf, Written), FolderError>> = outputs
        .groups(GROUP_BYTES)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(made, buffer): &mut (Vec<Vec<u8>>, Vec<u8>), group| {
                if made.len() < group.len() {
                    made.resize_with(group.len(), Vec::new);
                }
                let made = &mut made[..group.len()];
                outputs.make_together(&group, made);
                let written = group.iter().zip(made.iter()).map(|(&index, bytes)| {
                    let path = write(&outputs.names[index], bytes, buffer)?;
                    let written = Written {
                        bytes: bytes.len(),
                        xxh128: super::digest_hex(bytes),
                    };
                    Ok((path, written))
                });
                written.collect::<Vec<_>>()
            },
        )
        .flatten_iter()
        .collect();
    let mut paths = Vec::new();
    let mut facts = Vec::new();
    let mut first = None;
    for result in lists {
        match result {
            Ok((path, written)) => {
                paths.push(path);
                facts.push(written);
            }
            Err(error) => {
                first.get_or_insert(error);
            }
        }
    }
    if first.is_none() {
        if let Err(error) = write(SUMMARY, &outputs.summary(&facts), &mut Vec::new()) {
            first = Some(error);
        }
    }
    drop(to_sync);
    let _ = syncer.join();
    if first.is_none() {
        return Ok(());
    }
    for path in paths {
        let _ = fs::remove_file(path);
    }
    first.map_or(Ok(()), Err)
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, FolderError> {
    fs::read_dir(dir)
        .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
        .map_err(io_error("read the folder", dir))
}

/// Removes a file, or a folder with everything in it; symbolic links are not followed.
fn remove_entry(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Makes a folder's entries durable; as with files, a filesystem that cannot is no error.
fn sync_folder(dir: &Path) {
    if let Ok(folder) = File::open(dir) {
        folder.sync_all().ok();
    }
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> FolderError + 'a {
    move |error| FolderError::Io {
        action,
        path: path.to_path_buf(),
        error,
    }
}

// The tests expect the exchange, which only Linux offers.
#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    /// Outputs of the given files; `summary.json` is `{}` unless given.
    fn outputs<'a>(files: &'a [(&'a str, &'a str)]) -> Outputs<'a> {
        let lists: Vec<&(&str, &str)> = files.iter().filter(|(name, _)| *name != SUMMARY).collect();
        let summary = files
            .iter()
            .find(|(name, _)| *name == SUMMARY)
            .map_or("{}\n", |(_, text)| text);
        let names = lists.iter().map(|(name, _)| name.to_string()).collect();
        let sizes = lists.iter().map(|(_, text)| text.len()).collect();
        Outputs::new(
            names,
            sizes,
            move |indices: &[usize], out: &mut [Vec<u8>]| {
                for (&index, out) in indices.iter().zip(out) {
                    out.extend_from_slice(lists[index].1.as_bytes());
                }
            },
            move |_| summary.as_bytes().to_vec(),
        )
    }

    /// The names in a folder, sorted, hidden ones included.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn text(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn quiet(_: String) {}

    /// A folder `out` holding `files`, inside a fresh temporary folder.
    fn existing(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        fs::create_dir(&out).unwrap();
        for (name, text) in files {
            fs::write(out.join(name), text).unwrap();
        }
        (root, out)
    }

    #[test]
    fn outputs_made_in_memory_end_with_the_summary_of_what_was_made() {
        let outputs = Outputs::new(
            vec!["a.csv".to_string()],
            vec![4],
            |_: &[usize], out: &mut [Vec<u8>]| out[0].extend_from_slice(b"k\n1\n"),
            |written: &[Written]| format!("{written:?}").into_bytes(),
        );
        let files = outputs.make_all();
        assert_eq!(files[0], ("a.csv".to_string(), b"k\n1\n".to_vec()));
        assert_eq!(files[1].0, SUMMARY);
        let summary = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(summary.contains("bytes: 4"), "{summary}");
        // `printf 'k\n1\n' | xxh128sum`, and Python's `xxhash.xxh3_128_hexdigest`
        assert!(
            summary.contains("f11801d1c5f79f981abc8c81dca395f7"),
            "{summary}"
        );
    }

    #[test]
    fn a_missing_output_folder_is_created_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("deeper/out");
        let folder = OutputFolder::claim(&out).unwrap();
        let method = folder
            .publish(&outputs(&[("a.csv", "k\n1\n"), (SUMMARY, "{}\n")]), &quiet)
            .unwrap();
        assert_eq!(method, Method::Created);
        assert_eq!(names(&out), ["a.csv", "summary.json"]);
        assert_eq!(text(&out.join("a.csv")), "k\n1\n");
        assert_eq!(
            names(&root.path().join("deeper")),
            [".out.segc-lock", "out"]
        );
    }

    #[test]
    fn an_existing_output_folder_is_exchanged_and_the_old_set_removed() {
        let (root, out) = existing(&[("a.csv", "old\n"), (SUMMARY, "old\n")]);
        let folder = OutputFolder::claim(&out).unwrap();
        let method = folder
            .publish(&outputs(&[("a.csv", "new\n"), (SUMMARY, "new\n")]), &quiet)
            .unwrap();
        assert_eq!(method, Method::Exchanged);
        assert_eq!(text(&out.join("a.csv")), "new\n");
        assert_eq!(text(&out.join(SUMMARY)), "new\n");
        assert_eq!(names(root.path()), [".out.segc-lock", "out"]);
    }

    #[test]
    fn files_the_run_does_not_write_are_carried_over_by_hard_link() {
        // `b.csv` stands for a segment that `--only` leaves out, `notes.txt` for a user's file.
        let (_root, out) = existing(&[
            ("a.csv", "old a\n"),
            ("b.csv", "old b\n"),
            ("notes.txt", "mine\n"),
        ]);
        std::os::unix::fs::symlink("notes.txt", out.join("latest")).unwrap();
        let before = fs::metadata(out.join("b.csv")).unwrap().ino();
        let folder = OutputFolder::claim(&out).unwrap();
        folder
            .publish(&outputs(&[("a.csv", "new a\n"), (SUMMARY, "{}\n")]), &quiet)
            .unwrap();
        assert_eq!(
            names(&out),
            ["a.csv", "b.csv", "latest", "notes.txt", "summary.json"]
        );
        assert_eq!(text(&out.join("a.csv")), "new a\n");
        assert_eq!(text(&out.join("b.csv")), "old b\n");
        assert_eq!(text(&out.join("notes.txt")), "mine\n");
        assert_eq!(fs::metadata(out.join("b.csv")).unwrap().ino(), before);
        assert_eq!(
            fs::read_link(out.join("latest")).unwrap(),
            Path::new("notes.txt")
        );
    }

    #[test]
    fn the_new_folder_keeps_the_permissions_of_the_old_one() {
        let (_root, out) = existing(&[("a.csv", "old\n")]);
        fs::set_permissions(&out, fs::Permissions::from_mode(0o750)).unwrap();
        let folder = OutputFolder::claim(&out).unwrap();
        folder
            .publish(&outputs(&[("a.csv", "new\n")]), &quiet)
            .unwrap();
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
    }

    #[test]
    fn a_folder_inside_the_output_folder_is_refused_before_any_work() {
        let (_root, out) = existing(&[("a.csv", "old\n")]);
        fs::create_dir(out.join("archive")).unwrap();
        let error = OutputFolder::claim(&out).unwrap_err();
        assert!(
            matches!(&error, FolderError::Subfolder { entry, .. } if entry == "archive"),
            "{error:?}"
        );
        assert!(error
            .to_string()
            .ends_with("a folder that segc did not write: `archive`"));
        assert!(error.help().contains("move `archive` elsewhere"));
        assert_eq!(names(&out), ["a.csv", "archive"]);
    }

    #[test]
    fn a_folder_added_during_the_run_is_refused_and_nothing_changes() {
        let (root, out) = existing(&[("a.csv", "old\n")]);
        let folder = OutputFolder::claim(&out).unwrap();
        fs::create_dir(out.join("late")).unwrap();
        let error = folder
            .publish(&outputs(&[("a.csv", "new\n")]), &quiet)
            .unwrap_err();
        assert!(matches!(error, FolderError::Subfolder { .. }), "{error:?}");
        assert_eq!(text(&out.join("a.csv")), "old\n");
        assert_eq!(names(root.path()), [".out.segc-lock", "out"]);
    }

    #[test]
    fn an_output_path_that_is_a_file_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        fs::write(&out, "not a folder").unwrap();
        let error = OutputFolder::claim(&out).unwrap_err();
        assert!(matches!(error, FolderError::NotAFolder(_)), "{error:?}");
    }

    #[test]
    fn a_second_claim_is_busy_until_the_first_ends() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let link = root.path().join("link");
        let first = OutputFolder::claim(&out).unwrap();
        fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&out, &link).unwrap();
        // Another path to the same folder leads to the same lock.
        for path in [&out, &link] {
            let error = OutputFolder::claim(path).unwrap_err();
            assert!(matches!(error, FolderError::Busy { .. }), "{error:?}");
            assert!(error
                .to_string()
                .contains("is in use by another `segc run`"));
            assert!(error.help().contains(".out.segc-lock"));
        }
        drop(first);
        OutputFolder::claim(&link).unwrap();
    }

    #[test]
    fn a_symbolic_link_to_the_output_folder_stays_a_link() {
        let (root, out) = existing(&[("a.csv", "old\n")]);
        let link = root.path().join("link");
        std::os::unix::fs::symlink("out", &link).unwrap();
        let folder = OutputFolder::claim(&link).unwrap();
        assert_eq!(folder.path(), fs::canonicalize(&out).unwrap());
        folder
            .publish(&outputs(&[("a.csv", "new\n")]), &quiet)
            .unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(text(&link.join("a.csv")), "new\n");
    }

    #[test]
    fn what_killed_runs_left_is_removed_and_nothing_else() {
        let (root, out) = existing(&[("a.csv", "old\n"), (".a.csv.segc-41.tmp", "half")]);
        let stale = root.path().join(".out.segc-new-41");
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("a.csv"), "half").unwrap();
        for keep in [".out.segc-new-x", ".other.segc-new-41", "out.segc-new-41"] {
            fs::create_dir(root.path().join(keep)).unwrap();
        }
        let folder = OutputFolder::claim(&out).unwrap();
        assert_eq!(folder.notes().len(), 2, "{:?}", folder.notes());
        assert_eq!(
            names(root.path()),
            [
                ".other.segc-new-41",
                ".out.segc-lock",
                ".out.segc-new-x",
                "out",
                "out.segc-new-41"
            ]
        );
        assert_eq!(names(&out), ["a.csv"]);
    }

    #[test]
    fn entries_added_while_staging_move_into_the_new_folder() {
        let (root, out) = existing(&[("a.csv", "new\n")]);
        let folder = OutputFolder::claim(&out).unwrap();
        // The previous generation after an exchange: an output, a carried file, an addition.
        let old = root.path().join(staging_name(OsStr::new("out"), 7));
        fs::create_dir(&old).unwrap();
        for name in ["a.csv", "kept.txt", "added.txt"] {
            fs::write(old.join(name), name).unwrap();
        }
        fs::write(out.join("kept.txt"), "kept.txt").unwrap();
        let carried = [OsString::from("kept.txt")];
        folder.retire(&old, &outputs(&[("a.csv", "new\n")]), &carried, &quiet);
        assert!(!old.exists());
        assert_eq!(names(&out), ["a.csv", "added.txt", "kept.txt"]);
        assert_eq!(text(&out.join("a.csv")), "new\n");
    }

    #[test]
    fn the_per_file_method_replaces_each_file_and_the_summary_last() {
        let (_root, out) =
            existing(&[("a.csv", "old a\n"), ("b.csv", "old b\n"), (SUMMARY, "old")]);
        let folder = OutputFolder::claim(&out).unwrap();
        let files = outputs(&[("a.csv", "new a\n"), (SUMMARY, "new")]);
        let method = folder
            .publish_per_file(&files, "testing".to_string(), &quiet)
            .unwrap();
        assert_eq!(
            method,
            Method::PerFile {
                reason: "testing".to_string()
            }
        );
        assert_eq!(names(&out), ["a.csv", "b.csv", "summary.json"]);
        assert_eq!(text(&out.join("a.csv")), "new a\n");
        assert_eq!(text(&out.join("b.csv")), "old b\n");
        assert_eq!(text(&out.join(SUMMARY)), "new");
    }

    #[test]
    fn names_of_temporaries_and_staging_folders_are_recognised_exactly() {
        assert!(is_temporary(OsStr::new(".a.csv.segc-12.tmp")));
        assert!(is_temporary(OsStr::new(".summary.json.segc-9.tmp")));
        assert!(!is_temporary(OsStr::new("a.csv.segc-12.tmp")));
        assert!(!is_temporary(OsStr::new(".a.csv.segc-.tmp")));
        assert!(!is_temporary(OsStr::new(".a.csv.segc-1x.tmp")));
        let prefix = staging_prefix(OsStr::new("out"));
        assert!(is_staging(OsStr::new(".out.segc-new-12"), &prefix));
        assert!(!is_staging(OsStr::new(".out.segc-new-"), &prefix));
        assert!(!is_staging(OsStr::new(".out.segc-new-1.bak"), &prefix));
    }
}
