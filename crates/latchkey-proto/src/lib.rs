//! Generated bindings of Latchkey's gRPC API (`latchkey.v1`, in `proto/` at the workspace root),
//! servers and clients both, and the encoded descriptor set for server reflection.
//!
//! Built with protox, so no system `protoc` is needed. Nothing but generated code lives here:
//! conversions to domain types belong to the service, so this crate must never depend on the
//! domain, the store or any adapter.
#![forbid(unsafe_code)]
#![allow(missing_debug_implementations)]

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("latchkey.v1");
}

/// The encoded `FileDescriptorSet` of `latchkey.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("latchkey_descriptor");
