use std::pin::Pin;
use std::sync::Arc;

use latchkey_proto::v1 as pb;
use latchkey_proto::v1::audit_service_server::AuditService;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::convert;
use super::requests::{AccessLogQuery, HistoryQuery, ReplayQuery};
use crate::audit::{Audit, Events};
use crate::auth::Authenticator;
use crate::callers::Role;
use crate::error::AppError;

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

#[derive(Debug, Clone)]
pub struct AuditApi {
    audit: Audit,
    auth: Arc<Authenticator>,
}

impl AuditApi {
    pub fn new(audit: Audit, auth: Arc<Authenticator>) -> Self {
        Self { audit, auth }
    }
}

fn to_pb(events: Events) -> EventStream {
    Box::pin(events.map(|event| match event {
        Ok(event) => Ok(convert::event_to_pb(&event)),
        Err(e) => Err(e.into()),
    }))
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn get_access_log(
        &self,
        request: Request<pb::GetAccessLogRequest>,
    ) -> Result<Response<pb::GetAccessLogResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let query = AccessLogQuery::try_from(request.into_inner()).map_err(AppError::from)?;
        let reads = self
            .audit
            .access_log(&caller, query.id, query.since)
            .await?;
        Ok(Response::new(convert::access_log_to_pb(reads)))
    }

    type GetHistoryStream = EventStream;
    type ReplayEventsStream = EventStream;

    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<Self::GetHistoryStream>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let query = HistoryQuery::try_from(request.into_inner()).map_err(AppError::from)?;
        let events = self
            .audit
            .history(&caller, query.stream, query.from_version)
            .await?;
        Ok(Response::new(to_pb(events)))
    }

    async fn replay_events(
        &self,
        request: Request<pb::ReplayEventsRequest>,
    ) -> Result<Response<Self::ReplayEventsStream>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let query = ReplayQuery::try_from(request.into_inner()).map_err(AppError::from)?;
        let events = self
            .audit
            .replay(&caller, query.from_position, query.filter, query.follow)
            .await?;
        Ok(Response::new(to_pb(events)))
    }
}
