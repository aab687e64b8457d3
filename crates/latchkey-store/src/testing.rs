//! Test support (feature `testing`): a fresh Postgres database or SQLite file per test.
//!
//! Postgres comes from `LATCHKEY_TEST_DATABASE_URL` (any database on the server; a new one is
//! created beside it), else `postgres://postgres@127.0.0.1:5432/postgres`.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use uuid::Uuid;

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn admin_url() -> String {
    std::env::var("LATCHKEY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// A database created for one test and dropped by [`PgTestDatabase::drop_database`].
#[derive(Debug)]
pub struct PgTestDatabase {
    pub name: String,
    pub url: String,
    admin: PgConnectOptions,
}

impl PgTestDatabase {
    /// Creates `latchkey_test_<random>`. Panics with a hint when Postgres is not reachable: a
    /// test cannot go on without it, and `scripts/test` provides it.
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let admin = PgConnectOptions::from_str(&admin_url)
            .unwrap_or_else(|e| panic!("LATCHKEY_TEST_DATABASE_URL is not a Postgres URL: {e}"));
        let name = format!("latchkey_test_{}", Uuid::new_v4().simple());
        let mut conn = admin.connect().await.unwrap_or_else(|e| {
            panic!("cannot reach Postgres for tests ({e}); run scripts/test or set LATCHKEY_TEST_DATABASE_URL")
        });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        let _ = conn.close().await;
        // The admin URL with the new database's name as its path, usable by psql and pg_dump too.
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("LATCHKEY_TEST_DATABASE_URL is not a URL: {e}"));
        url.set_path(&name);
        let url = url.to_string();
        Self { name, url, admin }
    }

    pub async fn drop_database(self) {
        if let Ok(mut conn) = self.admin.connect().await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// A directory for one test's SQLite files, removed by [`TempDir::remove`].
#[derive(Debug)]
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn create() -> Self {
        let path = std::env::temp_dir().join(format!("latchkey-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path }
    }

    pub fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
