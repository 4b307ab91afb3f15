//! The syntax stage: `.seg` text to [`ast::SegFile`].
//!
//! pest stays inside this module; what leaves it is the AST and diagnostics.

pub mod ast;
mod parser;
mod phrases;
#[cfg(test)]
mod tests;

pub use parser::parse_file;
