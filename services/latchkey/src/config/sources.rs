//! Where settings come from besides flags and the environment: files (a configuration file, a
//! mounted secret).

use std::path::{Path, PathBuf};

use super::{Settings, non_empty};

/// Whether a command opens secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedsMasterKey {
    Yes,
    No,
}

/// A secret setting given directly or as a file holding it (a mounted secret); not both.
pub(super) fn secret_or_file(
    value: Option<String>,
    file: Option<PathBuf>,
    (name, flag): (&str, &str),
    (file_name, file_flag): (&str, &str),
    errors: &mut Vec<String>,
) -> Option<String> {
    match (non_empty(value), file) {
        (Some(_), Some(_)) => {
            errors.push(format!(
                "{file_name} ({file_flag}): set either it or {name} ({flag}), not both"
            ));
            None
        }
        (value, None) => value,
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            Ok(_) => {
                errors.push(format!(
                    "{file_name} ({file_flag}): {} is empty",
                    path.display()
                ));
                None
            }
            Err(e) => {
                errors.push(format!(
                    "{file_name} ({file_flag}): cannot read {}: {e}",
                    path.display()
                ));
                None
            }
        },
    }
}

/// The configuration file's settings: the same names as the flags (snake_case), each value
/// read as the environment would give it (numbers and booleans as text, a list joined by
/// commas), so one parser checks a setting wherever it came from. A key that names no setting is
/// refused.
pub(super) fn read_file(path: &Path) -> Result<Settings, String> {
    let invalid = |reason: String| {
        format!(
            "LATCHKEY_CONFIG (--config): {} is not a valid configuration file: {reason}",
            path.display()
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "LATCHKEY_CONFIG (--config): cannot read {}: {e}",
            path.display()
        )
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let known = Settings::names();
    let mut settings = serde_json::Map::new();
    for (key, value) in table {
        if key == "config" || !known.contains(&key) {
            return Err(invalid(format!("unknown setting `{key}`")));
        }
        let text = as_text(&value).ok_or_else(|| invalid(format!("`{key}` is not a value")))?;
        settings.insert(key, serde_json::Value::String(text));
    }
    serde_json::from_value(serde_json::Value::Object(settings)).map_err(|e| invalid(e.to_string()))
}

/// A file value as the environment would give it.
fn as_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(n) => Some(n.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(as_text)
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        toml::Value::Datetime(_) | toml::Value::Table(_) => None,
    }
}

impl Settings {
    /// Every setting's name (its flag without the dashes, snake_case).
    fn names() -> Vec<String> {
        use clap::Args;
        Settings::augment_args(clap::Command::new("latchkey"))
            .get_arguments()
            .map(|a| a.get_id().as_str().to_owned())
            .collect()
    }

    /// These settings over `below` (the file's): each one set here wins, an empty one does not.
    pub(super) fn over(self, below: Settings) -> Result<Settings, String> {
        use serde_json::Value;
        let config = self.config.clone();
        let (Ok(Value::Object(mut merged)), Ok(Value::Object(over))) =
            (serde_json::to_value(below), serde_json::to_value(self))
        else {
            return Err("settings do not serialize".to_owned());
        };
        for (key, value) in over {
            let unset = value.is_null() || value.as_str().is_some_and(|v| v.trim().is_empty());
            if !unset {
                merged.insert(key, value);
            }
        }
        let mut settings: Settings =
            serde_json::from_value(Value::Object(merged)).map_err(|e| e.to_string())?;
        settings.config = config;
        Ok(settings)
    }
}
