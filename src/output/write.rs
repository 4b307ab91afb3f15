//! Writing one new output file.
//!
//! Large member lists are written past the page cache (`O_DIRECT`) where the system allows
//! it: a run writes hundreds of megabytes that nothing reads back soon, and copying them
//! into the cache costs more processor time than making them (on virtual machines above
//! all, where each new page of cache is new memory for the host to hand over). The data
//! goes from an aligned buffer straight to the disk. Wherever that is refused (a filesystem
//! without `O_DIRECT`, such as tmpfs, or another system), or fails for any reason, the file
//! is written again the ordinary way, and only that write's error counts.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;

/// Files smaller than this are written the ordinary way.
pub const DIRECT_FROM: usize = 1 << 20;

/// Writes `bytes` to a new file at `path` (replacing one there), past the page cache when
/// it holds at least `direct_from` bytes. `buffer` is scratch space, kept between calls.
pub fn write_file(
    path: &Path,
    bytes: &[u8],
    buffer: &mut Vec<u8>,
    direct_from: usize,
) -> io::Result<File> {
    if bytes.len() >= direct_from {
        if let Some(file) = direct::write(path, bytes, buffer) {
            return Ok(file);
        }
    }
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    Ok(file)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod direct {
    use std::fs::{File, OpenOptions};
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    use std::path::Path;

    /// Direct writes start, and have a length, at a multiple of this: 4 KiB covers the
    /// logical block size of the disks in use.
    const BLOCK: usize = 4096;
    /// How much is written at a time.
    const PIECE: usize = 4 << 20;

    /// The file, or `None` when a direct write could not be made; what was written is then
    /// overwritten by the ordinary write.
    pub fn write(path: &Path, bytes: &[u8], buffer: &mut Vec<u8>) -> Option<File> {
        let flags = rustix::fs::OFlags::DIRECT.bits() as i32;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(flags)
            .open(path)
            .ok()?;
        // An aligned window of the buffer; the offset is found, not assumed.
        buffer.resize(PIECE + BLOCK, 0);
        let start = buffer.as_ptr().align_offset(BLOCK);
        let window = buffer.get_mut(start..start + PIECE)?;
        for piece in bytes.chunks(PIECE) {
            // The last piece is padded to a whole block, then cut back below.
            let padded = piece.len().next_multiple_of(BLOCK);
            window[..piece.len()].copy_from_slice(piece);
            window[piece.len()..padded].fill(0);
            file.write_all(&window[..padded]).ok()?;
        }
        file.set_len(bytes.len() as u64).ok()?;
        Some(file)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod direct {
    use std::fs::File;
    use std::path::Path;

    pub fn write(_path: &Path, _bytes: &[u8], _buffer: &mut Vec<u8>) -> Option<File> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that are not one repeated value, so a misplaced piece would show.
    fn contents(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn every_size_reads_back_whole_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let mut buffer = Vec::new();
        // Around the block and the piece sizes; direct from 1 byte, and never.
        let sizes = [
            0,
            1,
            4095,
            4096,
            4097,
            (4 << 20) - 1,
            4 << 20,
            (4 << 20) + 4097,
        ];
        for &size in &sizes {
            for direct_from in [1, usize::MAX] {
                let path = dir.path().join(format!("f{size}-{direct_from}"));
                let bytes = contents(size);
                write_file(&path, &bytes, &mut buffer, direct_from).unwrap();
                assert_eq!(std::fs::read(&path).unwrap(), bytes, "{size} bytes");
            }
        }
    }

    #[test]
    fn a_shorter_file_replaces_a_longer_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut buffer = Vec::new();
        write_file(&path, &contents(10_000), &mut buffer, 1).unwrap();
        write_file(&path, &contents(5), &mut buffer, 1).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), contents(5));
    }

    #[test]
    fn an_unwritable_place_gives_the_ordinary_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/f");
        let error = write_file(&path, &contents(10_000), &mut Vec::new(), 1).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
