//! How Postgres plans the hot queries, for the test that holds each to an index.

use super::queries::{CONNECTIONS_AND_DATA_KEYS, hot_queries};
use super::store::PgStore;

impl PgStore {
    /// How Postgres plans each hot query (`EXPLAIN` of its generic plan, as a prepared statement
    /// runs it, with sequential scans priced out so a query no index serves shows one): (what the
    /// query is for, the plan). Nothing is written.
    pub async fn explain_hot_queries(&self) -> Result<Vec<(String, String)>, crate::StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
            .execute(&mut *tx)
            .await?;
        let mut plans = Vec::new();
        for (i, (name, sql, args)) in hot_queries().into_iter().enumerate() {
            sqlx::query(&format!("PREPARE hot_{i} AS {sql}"))
                .execute(&mut *tx)
                .await?;
            let lines: Vec<String> =
                sqlx::query_scalar(&format!("EXPLAIN EXECUTE hot_{i}({args})"))
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query(&format!("DEALLOCATE hot_{i}"))
                .execute(&mut *tx)
                .await?;
            plans.push((name.to_owned(), lines.join("\n")));
        }
        tx.rollback().await?;
        Ok(plans)
    }

    /// Runs the shared read of connections ([`CONNECTIONS_AND_DATA_KEYS`]) `times` times on one
    /// session, with batches of 1 to 8 ids, and says how often Postgres planned it afresh:
    /// (generic plans used, custom plans made), from `pg_prepared_statements`.
    pub async fn plans_of_the_shared_read(
        &self,
        times: usize,
    ) -> Result<(i64, i64), crate::StoreError> {
        let mut conn = self.pool.acquire().await?;
        for run in 0..times {
            let ids: Vec<uuid::Uuid> = (0..=run % 8).map(|_| uuid::Uuid::now_v7()).collect();
            let owners: Vec<Option<String>> = ids
                .iter()
                .map(|id| Some(format!("connection-{id}")))
                .collect();
            sqlx::query(CONNECTIONS_AND_DATA_KEYS)
                .bind(&ids)
                .bind(&owners)
                .fetch_all(&mut *conn)
                .await?;
        }
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        )
        .bind(CONNECTIONS_AND_DATA_KEYS)
        .fetch_one(&mut *conn)
        .await?;
        Ok(counts)
    }
}
