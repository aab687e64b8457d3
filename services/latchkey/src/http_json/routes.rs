//! The route table, read from the `google.api.http` option of every method in the API's
//! descriptor set: nothing here names an RPC, so an annotated method is routed as soon as the
//! proto says so.

use axum::http::Method;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

use super::template::Template;

/// Where the request's JSON body goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyTarget {
    /// No body (GET, DELETE): every field comes from the path and the query.
    None,
    /// `body: "*"`: the body is the request message; the path binds some of its fields.
    Whole,
    /// `body: "field"`: the body is that field; the query may set the others.
    Field(String),
}

/// One HTTP route to one RPC.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub template_text: String,
    pub template: Template,
    pub body: BodyTarget,
    pub rpc: MethodDescriptor,
    /// `latchkey.v1.ConnectionService`.
    pub service: String,
    /// `/latchkey.v1.ConnectionService/GetToken`.
    pub grpc_path: String,
    /// The same, parsed once.
    pub grpc_uri: axum::http::Uri,
}

impl Route {
    pub fn server_streaming(&self) -> bool {
        self.rpc.is_server_streaming()
    }
}

/// Every route of the pool's services in package `package`, in the proto's order.
pub fn read(pool: &DescriptorPool, package: &str) -> Result<Vec<Route>, String> {
    let http = pool
        .get_extension_by_name("google.api.http")
        .ok_or("the descriptor set lacks google.api.http (google/api/annotations.proto)")?;
    let mut routes = Vec::new();
    for service in pool.services().filter(|s| s.package_name() == package) {
        for rpc in service.methods() {
            let options = rpc.options();
            if !options.has_extension(&http) {
                continue;
            }
            if rpc.is_client_streaming() {
                return Err(format!(
                    "{}: client streams have no HTTP/JSON route",
                    rpc.full_name()
                ));
            }
            let Value::Message(rule) = options.get_extension(&http).into_owned() else {
                return Err(format!(
                    "{}: google.api.http is not a message",
                    rpc.full_name()
                ));
            };
            let grpc_path = format!("/{}/{}", service.full_name(), rpc.name());
            routes.push(route(&rule, &rpc, &grpc_path)?);
            if let Some(Value::List(more)) = rule
                .get_field_by_name("additional_bindings")
                .map(|v| v.into_owned())
            {
                for binding in more {
                    let Value::Message(binding) = binding else {
                        continue;
                    };
                    routes.push(route(&binding, &rpc, &grpc_path)?);
                }
            }
        }
    }
    Ok(routes)
}

fn route(rule: &DynamicMessage, rpc: &MethodDescriptor, grpc_path: &str) -> Result<Route, String> {
    let text = |name: &str| match rule.get_field_by_name(name).map(|v| v.into_owned()) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let (method, template_text) = [
        (Method::GET, "get"),
        (Method::POST, "post"),
        (Method::PUT, "put"),
        (Method::PATCH, "patch"),
        (Method::DELETE, "delete"),
    ]
    .into_iter()
    .find_map(|(method, name)| text(name).map(|t| (method, t)))
    .ok_or_else(|| format!("{}: google.api.http names no method", rpc.full_name()))?;
    let template =
        Template::parse(&template_text).map_err(|e| format!("{}: {e}", rpc.full_name()))?;
    let body = match text("body").as_deref() {
        None => BodyTarget::None,
        Some("*") => BodyTarget::Whole,
        Some(field) => {
            if rpc.input().get_field_by_name(field).is_none() {
                return Err(format!("{}: body {field:?} is no field", rpc.full_name()));
            }
            BodyTarget::Field(field.to_owned())
        }
    };
    let grpc_uri =
        axum::http::Uri::try_from(grpc_path).map_err(|e| format!("{}: {e}", rpc.full_name()))?;
    Ok(Route {
        service: rpc.parent_service().full_name().to_owned(),
        grpc_uri,
        method,
        template_text,
        template,
        body,
        rpc: rpc.clone(),
        grpc_path: grpc_path.to_owned(),
    })
}

/// The routes as the Markdown table `docs/API.md` holds (a test checks it is current).
pub fn markdown(routes: &[Route]) -> String {
    let mut out = String::from("| HTTP | Path | RPC | Body |\n|---|---|---|---|\n");
    for route in routes {
        let body = match &route.body {
            BodyTarget::None => "—".to_owned(),
            BodyTarget::Whole => "the request".to_owned(),
            BodyTarget::Field(field) => format!("`{field}`"),
        };
        let stream = if route.server_streaming() {
            " (stream: one JSON object a line)"
        } else {
            ""
        };
        out.push_str(&format!(
            "| {} | `{}` | `{}`{stream} | {body} |\n",
            route.method,
            route.template_text,
            route.rpc.full_name(),
        ));
    }
    out
}
