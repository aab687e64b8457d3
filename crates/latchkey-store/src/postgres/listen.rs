//! Hearing other replicas' appends: Postgres `LISTEN` on [`NOTIFY_CHANNEL`], whose notifications
//! name the stream an append changed, and on [`ROUTES_CHANNEL`], whose name the integration whose
//! connections' provider accounts or statuses changed (this replica's writes included). The hooks hear them as they hear this process's own appends
//! and the `appended` waiters (the relay, live followers) wake. While the listening connection is
//! down, appends can go unheard: the hooks are told so, and told again when it is back.

use std::time::Duration;

use latchkey_domain::{IntegrationId, StreamId};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::Appended;

/// Other replicas hear of appends through this channel (`LISTEN latchkey_events`).
pub const NOTIFY_CHANNEL: &str = "latchkey_events";

/// Every replica hears here which integration's routes (its connections' provider accounts,
/// statuses, or the connections themselves) changed: the database's trigger on `connections`
/// tells it, whoever wrote.
pub const ROUTES_CHANNEL: &str = "latchkey_routes";

/// How long to wait before listening again after the connection was lost.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Listens until dropped, reconnecting after a lost connection. The listening session is one of
/// its own, beside `pool` (same options): a listener holds its session for good, and out of the
/// pool it leaves every pooled session to the work the pool is sized for.
pub(super) async fn listen(pool: PgPool, appended: Appended) {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with((*pool.connect_options()).clone());
    drop(pool);
    loop {
        let lost = hear(&own, &appended).await;
        appended.everything(false);
        tracing::warn!(error = %lost, "listening for other replicas' appends failed; copies of projections are off until it is back");
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// Hears notifications until the connection is lost; answers why it was.
async fn hear(pool: &PgPool, appended: &Appended) -> String {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(e) => return e.to_string(),
    };
    if let Err(e) = listener.listen_all([NOTIFY_CHANNEL, ROUTES_CHANNEL]).await {
        return e.to_string();
    }
    appended.everything(true);
    loop {
        // `try_recv` says when the connection was lost (notifications sent meanwhile are gone),
        // where `recv` would reconnect silently.
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.channel() == ROUTES_CHANNEL => {
                match notification.payload().parse::<IntegrationId>() {
                    Ok(integration) => appended.routes_changed(integration),
                    Err(_) => appended.everything(true),
                }
            }
            Ok(Some(notification)) => match notification.payload().parse::<StreamId>() {
                Ok(stream) => appended.committed(stream),
                // An older replica names no stream: everything may have changed.
                Err(_) => appended.everything(true),
            },
            Ok(None) => return "the listening connection was lost".to_owned(),
            Err(e) => return e.to_string(),
        }
    }
}
