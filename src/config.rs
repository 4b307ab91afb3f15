//! `segc.toml`: the project configuration, read with serde and validated into [`Config`].
//!
//! Every problem points at its place in segc.toml: unknown keys and wrong types come from
//! the TOML reader with a span; values that parse but mean nothing (a model kind that does
//! not exist, a two-character delimiter) are checked here against spanned fields.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::data::{parse_date, BadValue};
use crate::diag::{did_you_mean, Code, Diagnostic, Level};
use crate::models::{ColumnType, ModelKind};
use crate::source::{FileId, SourceMap, Span};

/// The file name segc looks for.
pub const CONFIG_FILE: &str = "segc.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    key: Option<Spanned<String>>,
    segments: Option<Vec<Spanned<String>>>,
    output: Option<Spanned<String>>,
    as_of: Option<Spanned<String>>,
    #[serde(default)]
    tables: BTreeMap<Spanned<String>, RawTable>,
    #[serde(default)]
    lints: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    path: Spanned<String>,
    model: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
    null_values: Option<Vec<String>>,
    on_bad_value: Option<Spanned<String>>,
    #[serde(default)]
    columns: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// What `[lints]` sets a code to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintLevel {
    Deny,
    Warn,
    Allow,
}

/// A table of segc.toml, validated.
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub name: String,
    /// The `[tables.NAME]` header's name.
    pub name_span: Span,
    /// As written, relative to the project root.
    pub path: String,
    pub path_span: Span,
    pub model: Option<ModelKind>,
    pub model_span: Option<Span>,
    pub key: String,
    pub delimiter: u8,
    pub null_values: Vec<String>,
    pub on_bad_value: BadValue,
    /// Declared column types, with the span of each declaration.
    pub columns: BTreeMap<String, (ColumnType, Span)>,
}

impl TableConfig {
    /// Declared types merged over the model kind's: what the loader treats as declared.
    pub fn declared_types(&self) -> HashMap<String, ColumnType> {
        let mut types = HashMap::new();
        for column in self.model.map_or(&[][..], ModelKind::columns) {
            types.insert(column.name.to_string(), column.ty);
        }
        for (name, (ty, _)) in &self.columns {
            types.insert(name.clone(), *ty);
        }
        types
    }
}

/// segc.toml, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder that holds segc.toml; relative paths start here.
    pub root: PathBuf,
    pub file: FileId,
    pub key: String,
    pub segments: Vec<String>,
    pub output: String,
    /// Where `output` is set, when segc.toml sets it.
    pub output_span: Option<Span>,
    /// Days since 1970-01-01 of `as_of`, with its span.
    pub as_of: Option<(i32, Span)>,
    /// Tables in name order.
    pub tables: Vec<TableConfig>,
    pub lints: HashMap<Code, LintLevel>,
}

impl Config {
    pub fn table(&self, name: &str) -> Option<(usize, &TableConfig)> {
        self.tables
            .iter()
            .enumerate()
            .find(|(_, table)| table.name == name)
    }

    /// The level a finding of `code` has in this project, or `None` when it is allowed.
    pub fn level(&self, code: Code) -> Option<Level> {
        match self.lints.get(&code) {
            Some(LintLevel::Allow) => None,
            Some(LintLevel::Deny) => Some(Level::Error),
            Some(LintLevel::Warn) => Some(Level::Warning),
            None => Some(code.default_level()),
        }
    }

    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

/// Finds segc.toml in `start` or its nearest parent.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// Parses and validates segc.toml's text, registered as `file`.
pub fn parse(root: &Path, file: FileId, sources: &SourceMap) -> Result<Config, Vec<Diagnostic>> {
    let text = sources.text(file);
    let raw: RawConfig = toml::from_str(&text).map_err(|error| {
        let span = error
            .span()
            .map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        let message = error.message().trim_end_matches('\n');
        let diagnostic = match wrong_type(&text, span.start, message) {
            Some(wrong) => Diagnostic::new(Code::Config, wrong.message)
                .at(file, span, wrong.label)
                .help(wrong.help),
            None => Diagnostic::new(Code::Config, message)
                .at(file, span, "here")
                .help(config_help(message)),
        };
        vec![diagnostic]
    })?;
    validate(root, file, raw)
}

/// A value of the wrong type, said with the setting's name and an example of the right type.
struct WrongType {
    message: String,
    label: String,
    help: String,
}

/// Rephrases the TOML reader's "invalid type: integer `5`, expected a string" for the
/// setting written before `at`, or `None` when the message is another kind.
fn wrong_type(text: &str, at: usize, message: &str) -> Option<WrongType> {
    let (found, expected) = message
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?;
    // serde names TOML's arrays and tables after its own data model, and a table of
    // segc.toml after the Rust struct that reads it.
    let toml_words = |phrase: &str| match phrase {
        "sequence" | "a sequence" => "an array".to_string(),
        "map" | "a map" => "a table".to_string(),
        struct_name if struct_name.starts_with("struct ") => "a table".to_string(),
        other => other.to_string(),
    };
    let (mut found, expected) = (toml_words(found), toml_words(expected));
    // TOML's own dates (`as_of = 2024-06-30`, no quotes) reach serde as a table.
    if found == "a table"
        && text
            .get(at..)
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    {
        found = "a date without quotes".to_string();
    }
    let setting = setting_at(text, at)?;
    let name = if setting.section.is_empty() {
        setting.key.clone()
    } else {
        format!("{}.{}", setting.section, setting.key)
    };
    let message = if setting.in_value {
        format!("an item of `{name}` must be {expected}, found {found}")
    } else {
        format!("`{name}` must be {expected}, found {found}")
    };
    let help = match example(&setting.section, &setting.key) {
        Some(example) => format!("write it like `{example}`"),
        None => "see the `segc.toml` section of the README".to_string(),
    };
    Some(WrongType {
        message,
        label: format!("expected {expected}"),
        help,
    })
}

/// The setting whose value holds the byte `at`.
struct Setting {
    /// The `[section]` it is in, without brackets; empty at the top.
    section: String,
    key: String,
    /// Whether `at` is inside the value (an item of an array) rather than the value itself.
    in_value: bool,
}

fn setting_at(text: &str, at: usize) -> Option<Setting> {
    let at = at.min(text.len());
    let mut end = at;
    let mut in_value = false;
    loop {
        let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..end];
        if line.trim_start().starts_with('[') && !line.contains('=') {
            return None;
        }
        if let Some((key, before_value)) = line.split_once('=') {
            let key = key.trim().trim_matches('"').to_string();
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
            if key.is_empty() || !key.chars().all(plain) {
                return None;
            }
            in_value |= !before_value.trim().is_empty();
            let section = text[..start]
                .lines()
                .rev()
                .map(|line| line.split('#').next().unwrap_or_default().trim())
                .find(|line| line.starts_with('[') && line.ends_with(']'))
                .map_or("", |line| line.trim_matches(['[', ']']))
                .trim()
                .to_string();
            return Some(Setting {
                section,
                key,
                in_value,
            });
        }
        if start == 0 {
            return None;
        }
        // A line without `=` is part of a value that started on an earlier line.
        in_value = true;
        end = start - 1;
    }
}

/// A line of segc.toml that sets `key` in `section` with the right type.
fn example(section: &str, key: &str) -> Option<String> {
    let line = match (section, key) {
        ("", "key") => "key = \"CustomerId\"",
        ("", "segments") => "segments = [\"segments/**/*.seg\"]",
        ("", "output") => "output = \"out\"",
        ("", "as_of") => "as_of = \"2024-06-30\"",
        ("lints", _) => return Some(format!("{key} = \"deny\"")),
        (table, _) if table.starts_with("tables.") && table.ends_with(".columns") => {
            return Some(format!("{key} = \"number\""));
        }
        (table, key) if table.starts_with("tables.") => match key {
            "path" => "path = \"samples/churn.csv\"",
            "model" => "model = \"transactional-churn\"",
            "key" => "key = \"CustomerId\"",
            "delimiter" => "delimiter = \";\"",
            "null_values" => "null_values = [\"\", \"NA\"]",
            "on_bad_value" => "on_bad_value = \"null\"",
            _ => return None,
        },
        _ => return None,
    };
    Some(line.to_string())
}

fn config_help(message: &str) -> String {
    if message.starts_with("unknown field") {
        "segc.toml takes `key`, `segments`, `output`, `as_of`, `[tables.NAME]` and `[lints]`; \
         a table takes `path`, `model`, `key`, `delimiter`, `null_values`, `on_bad_value` \
         and `[tables.NAME.columns]`"
            .to_string()
    } else {
        "see the `segc.toml` section of the README".to_string()
    }
}

fn span_of<T>(value: &Spanned<T>) -> Span {
    let range = value.span();
    Span::new(range.start, range.end)
}

fn validate(root: &Path, file: FileId, raw: RawConfig) -> Result<Config, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let key = raw
        .key
        .map_or_else(|| "CustomerId".to_string(), Spanned::into_inner);

    let as_of = raw
        .as_of
        .and_then(|as_of| match parse_date(as_of.get_ref()) {
            Some(days) => Some((days, span_of(&as_of))),
            None => {
                problems.push(
                    Diagnostic::new(Code::Config, format!("`{}` is not a date", as_of.get_ref()))
                        .at(file, span_of(&as_of), "expected `YYYY-MM-DD`")
                        .help("write the reference date as `as_of = \"2024-06-30\"`"),
                );
                None
            }
        });

    let mut tables = Vec::new();
    for (name, table) in raw.tables {
        match validate_table(file, name, table, &key) {
            Ok(table) => tables.push(table),
            Err(mut found) => problems.append(&mut found),
        }
    }

    let mut lints = HashMap::new();
    for (code, level) in raw.lints {
        let Some(parsed) = Code::from_name(code.get_ref()) else {
            let mut diagnostic = Diagnostic::new(
                Code::Config,
                format!("unknown lint `{}`", code.get_ref()),
            )
            .at(file, span_of(&code), "not a segc code");
            if let Some(help) = did_you_mean(code.get_ref(), Code::ALL.iter().map(|c| c.name())) {
                diagnostic = diagnostic.help(help);
            }
            problems.push(diagnostic);
            continue;
        };
        let level = match level.get_ref().as_str() {
            "deny" => LintLevel::Deny,
            "warn" => LintLevel::Warn,
            "allow" => LintLevel::Allow,
            other => {
                problems.push(
                    Diagnostic::new(Code::Config, format!("unknown lint level `{other}`")).at(
                        file,
                        span_of(&level),
                        "expected `deny`, `warn` or `allow`",
                    ),
                );
                continue;
            }
        };
        if parsed.default_level() == Level::Error && level != LintLevel::Deny {
            problems.push(
                Diagnostic::new(
                    Code::Config,
                    format!("`{}` is always an error", parsed.name()),
                )
                .at(file, span_of(&code), "cannot be lowered")
                .help("`[lints]` sets the level of warnings; errors stay errors"),
            );
            continue;
        }
        lints.insert(parsed, level);
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Config {
        root: root.to_path_buf(),
        file,
        key,
        segments: raw.segments.map_or_else(
            || vec!["segments/**/*.seg".to_string()],
            |globs| globs.into_iter().map(Spanned::into_inner).collect(),
        ),
        output_span: raw.output.as_ref().map(span_of),
        output: raw
            .output
            .map_or_else(|| "out".to_string(), Spanned::into_inner),
        as_of,
        tables,
        lints,
    })
}

fn validate_table(
    file: FileId,
    name: Spanned<String>,
    raw: RawTable,
    project_key: &str,
) -> Result<TableConfig, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let model = raw.model.as_ref().and_then(|model| {
        let kind = ModelKind::from_name(model.get_ref());
        if kind.is_none() {
            let names = ModelKind::ALL.map(ModelKind::name);
            let mut diagnostic = Diagnostic::new(
                Code::Config,
                format!("unknown model kind `{}`", model.get_ref()),
            )
            .at(file, span_of(model), "not a model kind segc knows");
            diagnostic = diagnostic.help(
                did_you_mean(model.get_ref(), names)
                    .unwrap_or_else(|| format!("the kinds are `{}`", names.join("`, `"))),
            );
            problems.push(diagnostic);
        }
        kind
    });

    let delimiter = match &raw.delimiter {
        None => b',',
        Some(text) if text.get_ref().len() == 1 => text.get_ref().as_bytes()[0],
        Some(text) => {
            problems.push(
                Diagnostic::new(Code::Config, "a delimiter must be one ASCII character")
                    .at(file, span_of(text), "not a single character")
                    .help("write `delimiter = \";\"` or `delimiter = \"\\t\"`"),
            );
            b','
        }
    };

    let on_bad_value = match raw.on_bad_value.as_ref().map(|v| v.get_ref().as_str()) {
        None | Some("error") => BadValue::Error,
        Some("null") => BadValue::Null,
        Some(other) => {
            let span = raw.on_bad_value.as_ref().map_or(Span::default(), span_of);
            problems.push(
                Diagnostic::new(Code::Config, format!("unknown `on_bad_value` `{other}`")).at(
                    file,
                    span,
                    "expected `error` or `null`",
                ),
            );
            BadValue::Error
        }
    };

    let mut columns = BTreeMap::new();
    for (column, ty) in raw.columns {
        match ColumnType::from_name(ty.get_ref()) {
            Some(parsed) => {
                columns.insert(column.into_inner(), (parsed, span_of(&ty)));
            }
            None => problems.push(
                Diagnostic::new(
                    Code::Config,
                    format!("unknown column type `{}`", ty.get_ref()),
                )
                .at(file, span_of(&ty), "not a column type")
                .help("the types are `number`, `integer`, `bool`, `string` and `date`"),
            ),
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TableConfig {
        name_span: span_of(&name),
        name: name.into_inner(),
        path_span: span_of(&raw.path),
        path: raw.path.into_inner(),
        model,
        model_span: raw.model.as_ref().map(span_of),
        key: raw
            .key
            .map_or_else(|| project_key.to_string(), Spanned::into_inner),
        delimiter,
        null_values: raw.null_values.unwrap_or_else(|| vec![String::new()]),
        on_bad_value,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and help of the TOML reader's `message` about the value at `needle`.
    fn reworded(text: &str, needle: &str, message: &str) -> Option<(String, String)> {
        let at = text.find(needle).expect("the value is in the text");
        wrong_type(text, at, message).map(|wrong| (wrong.message, wrong.help))
    }

    #[test]
    fn a_wrong_type_names_the_setting_in_toml_words() {
        let text = "output = 5\n\n[tables.t]  # churn\npath = \"t.csv\"\n\
                    null_values = [\n  \"\",\n  7,\n]\n";
        assert_eq!(
            reworded(text, "5", "invalid type: integer `5`, expected a string"),
            Some((
                "`output` must be a string, found integer `5`".to_string(),
                "write it like `output = \"out\"`".to_string()
            ))
        );
        // An item on a line of its own, below its setting.
        assert_eq!(
            reworded(text, "7", "invalid type: integer `7`, expected a string"),
            Some((
                "an item of `tables.t.null_values` must be a string, found integer `7`".to_string(),
                "write it like `null_values = [\"\", \"NA\"]`".to_string()
            ))
        );
    }

    #[test]
    fn serde_words_become_toml_words() {
        let text = "[tables]\nt = [1]\n";
        assert_eq!(
            reworded(
                text,
                "[1]",
                "invalid type: sequence, expected struct RawTable"
            ),
            Some((
                "`tables.t` must be a table, found an array".to_string(),
                "see the `segc.toml` section of the README".to_string()
            ))
        );
    }

    #[test]
    fn other_messages_are_left_to_the_toml_reader() {
        assert_eq!(
            reworded("modle = 1\n", "modle", "unknown field `modle`"),
            None
        );
    }
}
