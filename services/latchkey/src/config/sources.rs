//! Where settings come from besides flags and the environment: files (a configuration file, a
//! mounted secret).

use std::path::{Path, PathBuf};

use super::{FileSettings, non_empty};

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

pub(super) fn read_file(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "LATCHKEY_CONFIG (--config): cannot read {}: {e}",
            path.display()
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        format!(
            "LATCHKEY_CONFIG (--config): {} is not a valid configuration file: {e}",
            path.display()
        )
    })
}
