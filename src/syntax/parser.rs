//! Placeholder replaced by the pest parser.

use crate::diag::Diagnostic;
use crate::source::FileId;

use super::ast::SegFile;

/// Parses one `.seg` file.
pub fn parse_file(_file: FileId, _text: &str) -> Result<SegFile, Diagnostic> {
    Ok(SegFile {
        segments: Vec::new(),
        comments: Vec::new(),
    })
}
