//! Compiles `proto/` with protox (pure Rust), so building needs no system `protoc`.

use std::path::PathBuf;

use prost_types::field_descriptor_proto::Type;
use prost_types::{FileDescriptorSet, OneofDescriptorProto};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workspace = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../..");
    let root = workspace.join("proto");
    // google.api.http (the routes of HTTP/JSON) and google.rpc.Status (its errors), vendored.
    let googleapis = workspace.join("third_party/googleapis");
    let files = [
        "latchkey/v1/integration.proto",
        "latchkey/v1/connection.proto",
        "latchkey/v1/audit.proto",
    ];
    let mut compiler = protox::Compiler::new([&root, &googleapis])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(files)?;
    let descriptors = compiler.file_descriptor_set();
    // Server reflection and the HTTP/JSON routes read this descriptor set, encoded by protox so
    // the methods' options keep their `google.api.http` extension (prost-types' would drop it).
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("latchkey_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    // google.rpc.Status and its details, to write HTTP/JSON errors (not part of the API).
    let mut status = protox::Compiler::new([&googleapis])?;
    status.include_imports(true);
    status.open_files(["google/rpc/status.proto", "google/rpc/error_details.proto"])?;
    std::fs::write(
        out.join("status_descriptor.bin"),
        status.encode_file_descriptor_set(),
    )?;
    server_reply(descriptors.clone(), &out.join("server"))?;
    std::fs::write(out.join("dispatch.rs"), dispatch(&descriptors))?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed={}", googleapis.display());
    Ok(())
}

/// The servers again, with `GetTokenResponse.metadata` as `optional bytes`: wire-identical to the
/// `google.protobuf.Struct` it carries (both length-delimited field 8), so the service sends a
/// connection's metadata encoded once rather than building a `Struct` per call. Every other type
/// is the one of `v1` (but `ReportTokenRejectedResponse`, which holds a `GetTokenResponse`).
fn server_reply(
    mut set: FileDescriptorSet,
    out: &PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let mut config = tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(out)
        .bytes(".latchkey.v1.GetTokenResponse.metadata");
    for file in &mut set.file {
        if file.package() != "latchkey.v1" {
            continue;
        }
        // Only ConnectionService answers with GetTokenResponse; the other servers are `v1`'s.
        if !file.service.iter().any(|s| s.name() == "ConnectionService") {
            file.service.clear();
        }
        for message in &mut file.message_type {
            let name = message.name().to_owned();
            // ReportTokenRejected answers with a GetTokenResponse too: its reply is the server's.
            if name == "ReportTokenRejectedResponse" {
                continue;
            }
            if name != "GetTokenResponse" {
                config = config
                    .extern_path(format!(".latchkey.v1.{name}"), format!("crate::v1::{name}"));
                continue;
            }
            let synthetic = i32::try_from(message.oneof_decl.len())?;
            message.oneof_decl.push(OneofDescriptorProto {
                name: Some("_metadata".to_owned()),
                options: None,
            });
            let field = message
                .field
                .iter_mut()
                .find(|f| f.name() == "metadata")
                .ok_or("GetTokenResponse has no metadata field")?;
            field.set_type(Type::Bytes);
            field.type_name = None;
            field.proto3_optional = Some(true);
            field.oneof_index = Some(synthetic);
        }
        for enumeration in &file.enum_type {
            let name = enumeration.name();
            config =
                config.extern_path(format!(".latchkey.v1.{name}"), format!("crate::v1::{name}"));
        }
    }
    config.compile_fds(set)?;
    Ok(())
}

/// `GetToken` → `get_token`, as tonic names a service trait's methods.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Per service of `latchkey.v1`, a function that calls a unary method of its server trait by
/// name with the encoded request and answers the encoded reply: what HTTP/JSON calls in
/// process, without gRPC's framing. Server streams are left out (`None`).
fn dispatch(set: &FileDescriptorSet) -> String {
    let mut out = String::from("// Generated by latchkey-proto's build.rs: do not edit.\n");
    for file in set.file.iter().filter(|f| f.package() == "latchkey.v1") {
        for service in &file.service {
            let name = service.name();
            let module = snake(name);
            let trait_path = if name == "ConnectionService" {
                format!("crate::server::{module}_server::{name}")
            } else {
                format!("crate::v1::{module}_server::{name}")
            };
            out.push_str(&format!(
                "\n/// Calls a unary method of `{name}` by its name; `None` for any other.\n\
                 pub async fn call_{module}<T: {trait_path}>(\n    service: &T,\n    \
                 method: &str,\n    request: tonic::Request<Vec<u8>>,\n) -> \
                 Option<Result<Vec<u8>, tonic::Status>> {{\n    \
                 let (metadata, extensions, bytes) = request.into_parts();\n    \
                 Some(match method {{\n"
            ));
            for method in &service.method {
                if method.server_streaming() || method.client_streaming() {
                    continue;
                }
                let input = method
                    .input_type()
                    .trim_start_matches(".latchkey.v1.")
                    .to_owned();
                out.push_str(&format!(
                    "        \"{rpc}\" => match <crate::v1::{input} as prost::Message>::decode(bytes.as_slice()) {{\n            \
                     Ok(message) => service\n                \
                     .{call}(tonic::Request::from_parts(metadata, extensions, message))\n                \
                     .await\n                \
                     .map(|reply| prost::Message::encode_to_vec(reply.get_ref())),\n            \
                     Err(e) => Err(tonic::Status::invalid_argument(format!(\"the request could not be read: {{e}}\"))),\n        \
                     }},\n",
                    rpc = method.name(),
                    call = snake(method.name()),
                ));
            }
            out.push_str("        _ => return None,\n    })\n}\n");
        }
    }
    out
}
