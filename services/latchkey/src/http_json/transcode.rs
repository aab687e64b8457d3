//! HTTP/JSON to the RPC's request message and back: the body, the fields the path binds and the
//! query's parameters make one JSON object, read as the request in canonical proto3 JSON (field
//! names as in the proto or in lowerCamelCase); a reply is written in canonical proto3 JSON.

use prost::Message as _;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use super::routes::{BodyTarget, Route};
use super::template::percent_decode_with;

/// Messages whose JSON form is a string, so a path or query value sets them (`min_ttl=60s`).
const STRING_MESSAGES: [&str; 3] = [
    "google.protobuf.Duration",
    "google.protobuf.Timestamp",
    "google.protobuf.FieldMask",
];

/// `INVALID_ARGUMENT` naming `field` (also as a `BadRequest` violation, as the API's own
/// checks do).
pub fn invalid(field: &str, description: &str) -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// The encoded request message of `route`.
pub fn request(
    route: &Route,
    bound: Vec<(&str, String)>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, Status> {
    let input = route.rpc.input();
    let blank = body.iter().all(u8::is_ascii_whitespace);
    // (A `body: "field"` route sets its field even from an empty body: not this way.)
    if blank
        && query.is_none_or(str::is_empty)
        && !matches!(route.body, BodyTarget::Field(_))
        && let Some(encoded) = strings_only(&input, &bound)
    {
        return Ok(encoded);
    }
    let mut object = match &route.body {
        BodyTarget::None if blank => Map::new(),
        BodyTarget::None => {
            return Err(invalid(
                "body",
                "this route takes no body; send its fields in the query",
            ));
        }
        BodyTarget::Whole if blank => Map::new(),
        BodyTarget::Whole => match serde_json::from_slice(body) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return Err(invalid("body", "must be a JSON object")),
            Err(e) => return Err(invalid("body", &format!("not JSON: {e}"))),
        },
        BodyTarget::Field(field) => {
            let value = if blank {
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(body)
                    .map_err(|e| invalid("body", &format!("not JSON: {e}")))?
            };
            Map::from_iter([(field.clone(), value)])
        }
    };
    for (path, value) in bound {
        set(&mut object, &input, path, value, false)?;
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        if route.body == BodyTarget::Whole {
            return Err(invalid(
                "query",
                "this route reads its fields from the body; the query sets none",
            ));
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode_with(name, true)
                .ok_or_else(|| invalid("query", "a parameter's name is badly escaped"))?;
            let value =
                percent_decode_with(value, true).ok_or_else(|| invalid(&name, "badly escaped"))?;
            set(&mut object, &input, &name, value, true)?;
        }
    }
    let message = DynamicMessage::deserialize(input, Value::Object(object))
        .map_err(|e| invalid("body", &e.to_string()))?;
    Ok(message.encode_to_vec())
}

/// A request made of the path's fields alone, when each is a top-level string (`GET
/// /v1/connections/{connection_id}/token`): encoded at once, with no JSON in between.
fn strings_only(input: &MessageDescriptor, bound: &[(&str, String)]) -> Option<Vec<u8>> {
    let mut encoded = Vec::new();
    for (name, value) in bound {
        let field = input.get_field_by_name(name)?;
        if field.kind() != Kind::String || field.is_list() || field.containing_oneof().is_some() {
            return None;
        }
        if !value.is_empty() {
            prost::encoding::string::encode(field.number(), value, &mut encoded);
        }
    }
    Some(encoded)
}

/// Sets the field at dotted `path` (proto or JSON names) from a path or query value.
fn set(
    object: &mut Map<String, Value>,
    input: &MessageDescriptor,
    path: &str,
    value: String,
    from_query: bool,
) -> Result<(), Status> {
    let mut descriptor = input.clone();
    let mut object = object;
    let mut names = path.split('.').peekable();
    while let Some(name) = names.next() {
        let field = descriptor
            .get_field_by_name(name)
            .or_else(|| descriptor.get_field_by_json_name(name))
            .ok_or_else(|| {
                invalid(
                    path,
                    &format!("no such field of {}", descriptor.full_name()),
                )
            })?;
        if names.peek().is_none() {
            let scalar = scalar(&field, path, value)?;
            if field.is_list() && from_query {
                let entry = object
                    .entry(field.name())
                    .or_insert_with(|| Value::Array(Vec::new()));
                match entry {
                    Value::Array(items) => items.push(scalar),
                    _ => *entry = Value::Array(vec![scalar]),
                }
            } else if field.is_list() {
                return Err(invalid(path, "a list is not set from the path"));
            } else {
                object.insert(field.name().to_owned(), scalar);
            }
            return Ok(());
        }
        let Kind::Message(nested) = field.kind() else {
            return Err(invalid(path, &format!("{name} has no fields")));
        };
        if field.is_list() || field.is_map() {
            return Err(invalid(path, &format!("{name} is not set from the query")));
        }
        let entry = object
            .entry(field.name())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        object = match entry {
            Value::Object(inner) => inner,
            _ => return Err(invalid(path, "not an object")),
        };
        descriptor = nested;
    }
    Err(invalid(path, "empty field path"))
}

/// A path or query value as the JSON value of `field`.
fn scalar(field: &FieldDescriptor, path: &str, value: String) -> Result<Value, Status> {
    if field.is_map() {
        return Err(invalid(path, "a map is not set from the path or the query"));
    }
    let number = |value: &str| -> Result<Value, Status> {
        serde_json::from_str::<serde_json::Number>(value)
            .map(Value::Number)
            .map_err(|_| invalid(path, &format!("{value:?} is not a number")))
    };
    match field.kind() {
        Kind::Bool => match value.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(invalid(path, &format!("{other:?} is not true or false"))),
        },
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Uint32
        | Kind::Fixed32
        | Kind::Float
        | Kind::Double => number(&value),
        Kind::Message(message) if !STRING_MESSAGES.contains(&message.full_name()) => Err(invalid(
            path,
            "a message is not set from the path or the query",
        )),
        Kind::String => Ok(Value::String(value)),
        // Bytes (base64), 64-bit integers, enums (by name), durations, timestamps: read alone
        // first, so a bad one is named (the whole request's error would not say which).
        _ => {
            let value = Value::String(value);
            let alone = Value::Object(Map::from_iter([(field.name().to_owned(), value.clone())]));
            DynamicMessage::deserialize(field.parent_message().clone(), alone)
                .map_err(|e| invalid(path, &e.to_string()))?;
            Ok(value)
        }
    }
}

/// A reply message's canonical proto3 JSON: written from its bytes, or by prost-reflect when
/// the direct writer cannot read them.
pub fn reply(output: MessageDescriptor, encoded: &[u8]) -> Result<Vec<u8>, Status> {
    let mut out = Vec::with_capacity(encoded.len() * 2 + 16);
    if super::json_out::message(&output, encoded, &mut out).is_ok() {
        return Ok(out);
    }
    reflected(output, encoded)
}

/// The reply through a `DynamicMessage`.
pub fn reflected(output: MessageDescriptor, encoded: &[u8]) -> Result<Vec<u8>, Status> {
    let message = DynamicMessage::decode(output, encoded)
        .map_err(|e| Status::internal(format!("the reply could not be read: {e}")))?;
    serde_json::to_vec(&message)
        .map_err(|e| Status::internal(format!("the reply could not be written as JSON: {e}")))
}
