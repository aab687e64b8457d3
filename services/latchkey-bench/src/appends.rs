//! Appends on Postgres against plain single-row INSERTs of the same size through sqlx.

#![allow(clippy::unwrap_used)]

use super::*;

pub(crate) async fn bench_appends(args: &Args, db: &Database) -> anyhow::Result<()> {
    println!("\n## Appends on Postgres against plain single-row INSERTs of the same size\n");
    let store = Arc::new(PgStore::connect(&db.url, 40).await?);
    let pool = store.pool().clone();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_plain (position BIGSERIAL PRIMARY KEY, \
         stream_id TEXT NOT NULL, version BIGINT NOT NULL, event_type TEXT NOT NULL, \
         occurred_at TIMESTAMPTZ NOT NULL, payload TEXT NOT NULL, hash BYTEA NOT NULL)",
    )
    .execute(&pool)
    .await?;
    // The size of the event appended below, as stored.
    let probe = ConnectionId::new_v7();
    let integration = IntegrationId::new_v7();
    store
        .append(
            StreamId::Connection(probe),
            0,
            connection_events(probe, integration),
            &context(),
        )
        .await?;
    let recorded = store
        .append(
            StreamId::Connection(probe),
            2,
            vec![validated()],
            &context(),
        )
        .await?;
    let payload = "x".repeat(recorded[0].payload.len());
    println!(
        "Each append: one `validated` event ({} bytes of payload) on a connection's stream, with \
         its projection row updated in the same transaction. Each INSERT: one row of the same \
         payload, stream id and 32-byte hash, in its own transaction.\n",
        payload.len()
    );
    println!(
        "| writers | plain INSERTs/s | appends (events/s) | ratio (≥ 0.6) | ≥ 6,000/s at 32 |"
    );
    println!("|---|---|---|---|---|");
    for &writers in &args.writers {
        let plain_call = {
            let pool = pool.clone();
            let payload = payload.clone();
            Arc::new(move || {
                let pool = pool.clone();
                let payload = payload.clone();
                async move {
                    sqlx::query(
                        "INSERT INTO bench_plain (stream_id, version, event_type, occurred_at, \
                         payload, hash) VALUES ($1, 1, 'validated', now(), $2, $3)",
                    )
                    .bind(format!("connection-{}", uuid::Uuid::now_v7()))
                    .bind(payload)
                    .bind([0u8; 32].as_slice())
                    .execute(&pool)
                    .await?;
                    Ok(())
                }
            })
        };
        let append_call = append_caller(&store, writers, integration).await?;
        let (plain, appends) = interleaved(writers, args.seconds, plain_call, append_call).await?;
        let ratio = appends.per_second / plain.per_second;
        println!(
            "| {writers} | {:.0} | {:.0} | {ratio:.2} {} | {} |",
            plain.per_second,
            appends.per_second,
            verdict(ratio >= 0.6),
            if writers == 32 {
                verdict(appends.per_second >= 6000.0)
            } else {
                "–"
            }
        );
    }
    store.close().await;
    Ok(())
}

/// A call that appends one `validated` event to a connection of its own per writer (`writers`
/// connections, taken in turn), version by version: the appends the other parts compare with.
pub(crate) async fn append_caller(
    store: &Arc<PgStore>,
    writers: usize,
    integration: IntegrationId,
) -> anyhow::Result<Arc<impl Fn() -> BoxedAppend + Send + Sync + 'static>> {
    let mut streams = Vec::new();
    for _ in 0..writers {
        let id = ConnectionId::new_v7();
        store
            .append(
                StreamId::Connection(id),
                0,
                connection_events(id, integration),
                &context(),
            )
            .await?;
        streams.push(Arc::new(tokio::sync::Mutex::new((id, 2u64))));
    }
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let store = store.clone();
    Ok(Arc::new(move || {
        let store = store.clone();
        let slot = streams[next.fetch_add(1, Ordering::Relaxed) % streams.len()].clone();
        Box::pin(async move {
            let mut slot = slot.lock().await;
            let (id, version) = *slot;
            store
                .append(
                    StreamId::Connection(id),
                    version,
                    vec![validated()],
                    &context(),
                )
                .await?;
            slot.1 += 1;
            anyhow::Ok(())
        }) as BoxedAppend
    }))
}

/// One append, boxed.
pub(crate) type BoxedAppend =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;
