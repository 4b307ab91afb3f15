//! What the checker knows of each table's columns before (or without) loading it.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::config::{Config, TableConfig};
use crate::data::{self, Header, LoadOptions};
use crate::diag::{Code, Diagnostic};
use crate::models::{ColumnType, Domain};
use crate::source::SourceMap;

use super::ir::Type;

/// The columns of one table as far as they are known.
#[derive(Debug, Clone, Default)]
pub struct TableSchema {
    /// Column names with their types, key column included.
    pub columns: Vec<(String, Type)>,
    /// Whether the header was read. When it was not, only declared and model columns are
    /// known, and any other name may exist.
    pub available: bool,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<Type> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|&(_, ty)| ty)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(name, _)| name.as_str())
    }
}

/// The owned inputs behind a table's [`LoadOptions`].
#[derive(Debug, Clone)]
pub struct TableInputs {
    pub path: PathBuf,
    pub display_path: String,
    pub declared: HashMap<String, ColumnType>,
    pub domains: HashMap<String, Domain>,
}

/// What loading the tables of a plan takes, for each table (`(index in the configuration,
/// columns to keep)`, as [`crate::plan::Plan::tables`] gives them): its index, its inputs,
/// and its columns to keep besides the key.
pub fn plan_inputs(
    config: &Config,
    tables: &[(usize, Vec<String>)],
) -> Vec<(usize, TableInputs, Vec<String>)> {
    tables
        .iter()
        .map(|(index, columns)| {
            let table = &config.tables[*index];
            let columns = columns
                .iter()
                .filter(|c| **c != table.key)
                .cloned()
                .collect();
            (*index, TableInputs::new(config, table), columns)
        })
        .collect()
}

impl TableInputs {
    pub fn new(config: &Config, table: &TableConfig) -> TableInputs {
        let domains = table
            .model
            .map(|kind| {
                kind.columns()
                    .iter()
                    .filter_map(|c| c.domain.map(|d| (c.name.to_string(), d)))
                    .collect()
            })
            .unwrap_or_default();
        TableInputs {
            path: config.resolve(&table.path),
            display_path: table.path.clone(),
            declared: table.declared_types(),
            domains,
        }
    }

    pub fn options<'a>(&'a self, table: &'a TableConfig, columns: &'a [String]) -> LoadOptions<'a> {
        LoadOptions {
            table: &table.name,
            path: &self.path,
            display_path: &self.display_path,
            key: &table.key,
            delimiter: table.delimiter,
            null_values: &table.null_values,
            on_bad_value: table.on_bad_value,
            declared: &self.declared,
            domains: &self.domains,
            one_row_per_key: table.model.is_some_and(|kind| kind.one_row_per_key()),
            columns,
        }
    }
}

/// How much of a table to read for its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderMode {
    /// Names only; undeclared columns have an unknown type (run's first pass).
    NamesOnly,
    /// Names, and types inferred from the first rows (`segc check`).
    Sample(usize),
}

/// The schema of every table, read from the headers in parallel. A table whose file
/// cannot be read gets the declared and model columns only, and its problems are
/// returned with it, so the caller decides whether that is a warning or an error.
pub fn header_schemas(
    config: &Config,
    mode: HeaderMode,
    sources: &SourceMap,
) -> Vec<(TableSchema, Vec<Diagnostic>)> {
    config
        .tables
        .par_iter()
        .map(|table| {
            let inputs = TableInputs::new(config, table);
            let options = inputs.options(table, &[]);
            let sample = match mode {
                HeaderMode::NamesOnly => Some(0),
                HeaderMode::Sample(rows) => Some(rows),
            };
            let unavailable = |message: String, label: &str| {
                Diagnostic::new(Code::TableUnavailable, message)
                    .at(config.file, table.path_span, label)
                    .help("columns were checked against declared and model columns only")
            };
            match std::fs::metadata(&inputs.path) {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    let message = format!("table `{}` has no file at `{}`", table.name, table.path);
                    let problem = unavailable(message, "this file does not exist");
                    return (declared_schema(table), vec![problem]);
                }
                // Reading a folder fails with "Is a directory", which names no path.
                Ok(metadata) if metadata.is_dir() => {
                    let message = format!(
                        "table `{}` has a folder at `{}`, not a file",
                        table.name, table.path
                    );
                    let problem = unavailable(message, "this is a folder");
                    return (declared_schema(table), vec![problem]);
                }
                _ => {}
            }
            match data::read_header(&options, sample, sources) {
                Ok(header) => schema_from_header(config, table, &header, mode),
                Err(problems) => {
                    // A file that exists but cannot be read is unavailable like a missing
                    // one; its report points at the `path` that names it.
                    let problems = problems
                        .into_iter()
                        .map(|problem| match problem.code {
                            Code::Io if problem.primary.is_none() => {
                                unavailable(problem.message, "this file cannot be read")
                            }
                            _ => problem,
                        })
                        .collect();
                    (declared_schema(table), problems)
                }
            }
        })
        .collect()
}

/// The columns known without the file: the key, the model's and the declared ones.
fn declared_schema(table: &TableConfig) -> TableSchema {
    let mut columns = vec![(table.key.clone(), Type::String)];
    let mut declared: Vec<(String, ColumnType)> = table.declared_types().into_iter().collect();
    declared.sort();
    columns.extend(
        declared
            .into_iter()
            .map(|(name, ty)| (name, Type::from(ty))),
    );
    TableSchema {
        columns,
        available: false,
    }
}

fn schema_from_header(
    config: &Config,
    table: &TableConfig,
    header: &Header,
    mode: HeaderMode,
) -> (TableSchema, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    if !header.names.contains(&table.key) {
        problems.push(
            Diagnostic::new(
                Code::Config,
                format!(
                    "table `{}` has no key column `{}` in `{}`",
                    table.name, table.key, table.path
                ),
            )
            .at(
                config.file,
                table.path_span,
                "this file's header lacks the key column",
            )
            .help(key_help(table, &header.names)),
        );
    }
    if let (Some(kind), Some(span)) = (table.model, table.model_span) {
        for column in kind.columns().iter().filter(|c| c.required) {
            if !header.names.iter().any(|name| name == column.name) {
                problems.push(
                    Diagnostic::new(
                        Code::MissingModelColumn,
                        format!(
                            "table `{}` (`{}`) lacks column `{}`, which a `{}` table has",
                            table.name,
                            table.path,
                            column.name,
                            kind.name()
                        ),
                    )
                    .at(
                        config.file,
                        span,
                        format!("this kind requires `{}`", column.name),
                    )
                    .help(format!(
                        "add `{}` to the header of `{}`, or correct the model kind",
                        column.name, table.path
                    )),
                );
            }
        }
    }
    let declared = table.declared_types();
    let columns = header
        .names
        .iter()
        .zip(&header.types)
        .map(|(name, &inferred)| {
            let ty = if name == &table.key {
                Type::String
            } else if let Some(&ty) = declared.get(name) {
                Type::from(ty)
            } else if mode == HeaderMode::NamesOnly {
                Type::Unknown
            } else {
                Type::from(inferred)
            };
            (name.clone(), ty)
        })
        .collect();
    (
        TableSchema {
            columns,
            available: true,
        },
        problems,
    )
}

/// What to do about a header without the key column. A header read with the wrong
/// delimiter is one long name that holds the key; that is worth saying outright.
fn key_help(table: &TableConfig, names: &[String]) -> String {
    let other = [';', '\t', '|', ',']
        .into_iter()
        .filter(|&d| d != char::from(table.delimiter))
        .find(|&d| {
            names
                .iter()
                .any(|name| name.split(d).any(|part| part == table.key))
        });
    match other {
        Some(delimiter) => {
            let (name, written) = match delimiter {
                '\t' => ("tab".to_string(), "\\t".to_string()),
                d => (format!("`{d}`"), d.to_string()),
            };
            format!(
                "the header looks {name}-separated; set `delimiter = \"{written}\"` for table `{}`",
                table.name
            )
        }
        None => format!(
            "the header has `{}`; set `key` for this table",
            names.join("`, `")
        ),
    }
}
