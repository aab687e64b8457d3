//! The settings of the local commands that open the database but serve nothing (`migrate`,
//! `verify`, `archive`, `rebuild-projections`, `keys`, `apikeys`): only the storage's, the log's
//! and (for `keys`) the master key file, so their `--help` lists what they read and no listener.
//! Each becomes a [`Settings`] with the rest unset, resolved the same way.

use std::path::PathBuf;

use clap::Args;

use super::Settings;

/// Where the database is, and how the command logs.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreSettings {
    /// A TOML file with any of the service's settings (snake_case keys); these commands read its
    /// storage and log settings.
    #[arg(long, global = true, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded default: SQLite database and generated key file.
    #[arg(long, global = true, env = "LATCHKEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Postgres URL. Unset: the embedded SQLite database in the data directory.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// File holding the Postgres URL (a mounted secret), instead of LATCHKEY_DATABASE_URL.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_DATABASE_URL_FILE",
        value_name = "FILE"
    )]
    pub database_url_file: Option<PathBuf>,
    /// Log filter (tracing's EnvFilter syntax), e.g. "info" or "latchkey=debug".
    #[arg(long, global = true, env = "LATCHKEY_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log lines as `human` text (default) or `json`, one object per line.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<String>,
}

/// The master key's file, for the commands that open or rewrap data keys (`keys`).
/// LATCHKEY_MASTER_KEY (environment only) gives the keys themselves.
#[derive(Debug, Clone, Default, Args)]
pub struct KeySettings {
    /// File holding the base64 master keys, the active one first. LATCHKEY_MASTER_KEY
    /// (environment only, comma-separated) gives the keys themselves.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_MASTER_KEY_FILE",
        value_name = "FILE"
    )]
    pub master_key_file: Option<PathBuf>,
}

impl StoreSettings {
    /// The service's settings with these set and nothing else.
    pub fn into_settings(self, keys: Option<KeySettings>) -> Settings {
        Settings {
            config: self.config,
            data_dir: self.data_dir,
            database_url: self.database_url,
            database_url_file: self.database_url_file,
            log: self.log,
            log_format: self.log_format,
            master_key_file: keys.and_then(|k| k.master_key_file),
            ..Settings::default()
        }
    }
}
