//! segc: compile version-controlled segment definitions into customer lists.
//!
//! The pipeline, one module per stage:
//! [`syntax`] (`.seg` text to AST) → [`check`] (names, types, lints) → [`plan`] (what to
//! load, in which order) → [`data`] (typed tables) → [`eval`] (members of each segment)
//! → [`output`] (files and the terminal summary); [`compile`] turns the checked program into
//! SQL instead. [`diag`] and [`cli`] sit beside them.

// Diagnostics travel as the error of most stages and are large; they are rare, not hot.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod cli;
pub mod compile;
pub mod config;
pub mod data;
pub mod diag;
pub mod eval;
pub mod fmt;
pub mod models;
pub mod output;
pub mod plan;
pub mod progress;
pub mod project;
pub mod source;
pub mod syntax;
