//! Generated bindings of Latchkey's gRPC API (`latchkey.v1`, in `proto/` at the workspace root),
//! servers and clients both, and the encoded descriptor set for server reflection.
//!
//! Built with protox, so no system `protoc` is needed. Nothing but generated code lives here (and
//! `encoded`, the wire type of a reply encoded ahead): conversions to domain types belong to the
//! service, so this crate must never depend on the domain, the store or any adapter.
#![forbid(unsafe_code)]
#![allow(missing_debug_implementations)]

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("latchkey.v1");
}

/// The servers of `latchkey.v1` with one difference on the wire's near side: `GetTokenResponse`
/// is [`Encoded`](encoded::Encoded), the reply's bytes as the service encoded them once per
/// version, so a reply costs no message built per call. Every other type is `v1`'s; clients
/// decode the reply as `v1::GetTokenResponse`.
pub mod server {
    #![allow(clippy::all, clippy::pedantic)]
    include!(concat!(env!("OUT_DIR"), "/server/latchkey.v1.rs"));
}

pub mod encoded;

/// The unary methods of each service called by name with encoded messages (HTTP/JSON's way in,
/// without gRPC's framing), generated from the descriptors.
pub mod dispatch {
    #![allow(clippy::all, clippy::pedantic)]
    include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));
}

/// The encoded `FileDescriptorSet` of `latchkey.v1` (with its imports, and the methods'
/// `google.api.http` options), for gRPC server reflection and the HTTP/JSON routes.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("latchkey_descriptor");

/// The encoded `FileDescriptorSet` of `google.rpc.Status` and its error details, to write errors
/// as JSON.
pub const STATUS_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("status_descriptor");
