//! gRPC handlers: check the request (`requests`), call the use case, convert the answer
//! (`convert`). Thin on purpose; the rules live in the domain and the use cases.

mod audit;
mod connection;
mod convert;
mod deadline;
mod device;
mod dpop;
#[cfg(test)]
mod hostile_tests;
mod import;
mod integration;
mod integration_wire;
mod reply;
mod report;
mod requests;
mod rpc_metrics;
mod service_account;
mod sessions;
pub mod status;
mod webhooks;

pub use audit::AuditApi;
pub use connection::ConnectionApi;
pub use deadline::DeadlineLayer;
pub use integration::IntegrationApi;
pub use rpc_metrics::{RpcMetricsLayer, initialize as initialize_rpc_metrics};
