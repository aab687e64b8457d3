//! The hot queries' SQL, in one place: the store runs them, and [`hot_queries`] plans them (a test
//! holds every plan to an index, never a sequential scan of `connections` or `events`). The ones
//! both stores run live with their role, in `crate::roles`.

use crate::roles::{
    CONNECTION_BY_STATE, INTEGRATION_BY_ID, TOKEN_READS, read_all_sql, read_stream_sql,
};

pub(super) const CONNECTION_BY_ID: &str = "SELECT state FROM connections WHERE id = $1";

/// A connection's projection and a data key, in one round trip (`GetToken` on a miss).
pub(super) const CONNECTION_AND_DATA_KEY: &str = "SELECT \
     (SELECT state FROM connections WHERE id = $1), k.wrapped, k.master_key_id \
     FROM (SELECT 1) AS one LEFT JOIN data_keys k ON k.owner = $2";

/// Many connections' projections, each with a data key when its owner is given, by the
/// requests' order (`i`, from 1): [`CONNECTION_AND_DATA_KEY`] for a batch.
///
/// The arrays come through sub-selects so that no plan knows their length: with `unnest($1)`
/// Postgres priced each batch by its size and, the generic plan (sized for 10) never cheaper than
/// the small batches' own, planned every batch again, planning costing more than executing. Now,
/// after its first five runs on a session, Postgres keeps one plan (test
/// `postgres_the_shared_read_keeps_one_plan`).
pub(super) const CONNECTIONS_AND_DATA_KEYS: &str = "SELECT r.i, c.state, k.wrapped, k.master_key_id \
     FROM unnest((SELECT $1::uuid[]), (SELECT $2::text[])) WITH ORDINALITY AS r(id, owner, i) \
     LEFT JOIN connections c ON c.id = r.id \
     LEFT JOIN data_keys k ON k.owner = r.owner";

/// Which filters a `ListConnections` page has: the SQL names only those, so the planner can use
/// the index of the one given (a generic `$1 IS NULL OR …` form walks the whole table).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ListShape {
    pub tenant: bool,
    pub integration: bool,
    pub status: bool,
    pub after: bool,
    pub labels: bool,
    pub account: bool,
    /// Failing (`Some(true)`) or not; no parameter.
    pub failing: Option<bool>,
    pub failing_before: bool,
}

/// The page query of a shape; its parameters are the filters present, in field order, then the
/// limit.
pub(super) fn list_connections(shape: ListShape) -> String {
    let mut conditions = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if shape.tenant {
        conditions.push(format!("tenant = ${}", next()));
    }
    if shape.integration {
        conditions.push(format!("integration_id = ${}", next()));
    }
    if shape.status {
        conditions.push(format!("status = ${}", next()));
    }
    if shape.after {
        conditions.push(format!("id > ${}", next()));
    }
    if shape.labels {
        conditions.push(format!("labels::jsonb @> ${}::jsonb", next()));
    }
    if shape.account {
        conditions.push(format!("provider_account_id = ${}", next()));
    }
    match shape.failing {
        Some(true) => conditions
            .push("failing_since IS NOT NULL AND status NOT IN ('revoked', 'deleted')".to_owned()),
        Some(false) => conditions
            .push("(failing_since IS NULL OR status IN ('revoked', 'deleted'))".to_owned()),
        None => {}
    }
    if shape.failing_before {
        conditions.push(format!("failing_since < ${}", next()));
    }
    let limit = next();
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", conditions.join(" AND "))
    };
    format!("SELECT state FROM connections {filter}ORDER BY id LIMIT ${limit}")
}

/// Claims due connections: a planned refresh whose time has come, or an active token past its
/// expiry (to record it expired), among those no live claim holds. Each arm walks its own index
/// of the narrow schedule table from the oldest, at most `$2` rows, locking what it takes and
/// skipping rows another claimer (or an append) holds; a connection in both comes once, at its
/// earlier time. `$3` is the owner, `$4` the claim's end.
pub(super) const CLAIM_DUE: &str = "WITH planned AS ( \
       SELECT connection_id, refresh_at AS due FROM connection_schedule \
        WHERE status IN ('active', 'expired') AND refresh_at <= $1 \
          AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY refresh_at LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED), \
     expired AS ( \
       SELECT connection_id, expires_at AS due FROM connection_schedule \
        WHERE status = 'active' AND expires_at <= $1 \
          AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY expires_at LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED), \
     picked AS ( \
       SELECT connection_id, min(due) AS due \
         FROM (SELECT * FROM planned UNION ALL SELECT * FROM expired) d \
        GROUP BY connection_id ORDER BY min(due) LIMIT $2) \
     UPDATE connection_schedule s \
        SET claimed_by = $3, claimed_until = $4, claim_fence = s.claim_fence + 1 \
       FROM picked WHERE s.connection_id = picked.connection_id \
     RETURNING s.connection_id, s.claim_fence, picked.due";

/// Ends claims still held by `$1` at the fences they were taken with.
pub(super) const RELEASE_CLAIMS: &str = "UPDATE connection_schedule s SET claimed_until = NULL \
     FROM unnest($2::uuid[], $3::int8[]) AS r(id, fence) \
     WHERE s.connection_id = r.id AND s.claim_fence = r.fence AND s.claimed_by = $1";

pub(super) const DUE_FOR_VALIDATION: &str = "SELECT connection_id FROM connection_schedule \
     WHERE integration_id = $1 AND status = 'active' \
       AND (validated_at IS NULL OR validated_at <= $2) \
     ORDER BY validated_at NULLS FIRST LIMIT $3";

/// A stream's last version and hash (the guard every event insert advances).
pub(super) const STREAM_HEAD: &str = "SELECT version, hash FROM stream_heads WHERE stream_id = $1";

/// Every hot query with arguments to plan it with (SQL literals, in parameter order).
pub(super) fn hot_queries() -> Vec<(&'static str, String, &'static str)> {
    const ID: &str = "'0190d6f0-0000-7000-8000-000000000000'::uuid";
    vec![
        ("connection by id", CONNECTION_BY_ID.to_owned(), ID),
        (
            "connection and its data key (GetToken on a miss)",
            CONNECTION_AND_DATA_KEY.to_owned(),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, \
             'connection-0190d6f0-0000-7000-8000-000000000000'",
        ),
        (
            "connections and their data keys, read together (GetToken's misses that overlap)",
            CONNECTIONS_AND_DATA_KEYS.to_owned(),
            "ARRAY['0190d6f0-0000-7000-8000-000000000000'::uuid, \
             '0190d6f0-0000-7000-8000-000000000001'::uuid], \
             ARRAY['connection-0190d6f0-0000-7000-8000-000000000000', NULL]",
        ),
        ("integration by id", INTEGRATION_BY_ID.to_owned(), ID),
        (
            "connection by pending state (callback)",
            CONNECTION_BY_STATE.to_owned(),
            "'digest'",
        ),
        (
            "ListConnections of a tenant",
            list_connections(ListShape {
                tenant: true,
                ..ListShape::default()
            }),
            "'acme', 100",
        ),
        (
            "ListConnections of an integration, next page",
            list_connections(ListShape {
                integration: true,
                after: true,
                ..ListShape::default()
            }),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, \
             '0190d6f0-0000-7000-8000-000000000000'::uuid, 100",
        ),
        (
            "ListConnections, all, next page",
            list_connections(ListShape {
                after: true,
                ..ListShape::default()
            }),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, 100",
        ),
        (
            "claim of due connections (the refresher)",
            CLAIM_DUE.to_owned(),
            "now(), 500, 'replica', now() + interval '1 minute'",
        ),
        (
            "due for validation",
            DUE_FOR_VALIDATION.to_owned(),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, now(), 200",
        ),
        (
            "a stream's head (every append)",
            STREAM_HEAD.to_owned(),
            "'connection-x'",
        ),
        (
            "a stream's events (GetHistory)",
            read_stream_sql(),
            "'connection-x', 1, 500",
        ),
        (
            "the log from a position (relay, replay)",
            read_all_sql(),
            "42, 500",
        ),
        (
            "token reads of a connection",
            TOKEN_READS.to_owned(),
            ID_NOW_LIMIT,
        ),
    ]
}

const ID_NOW_LIMIT: &str = "'0190d6f0-0000-7000-8000-000000000000'::uuid, now(), 100";
