//! `latchkey connections import FILE`: one connection per JSON line, each all or nothing.
//!
//! A line: `{"import_id": "…", "tenant": "acme", "integration_id": "…", "access_token": "…",
//! "refresh_token": "…", "expires_at": "2026-12-02T12:00:00Z", "scopes": ["…"], "metadata": {…},
//! "profile": {"name": "…", "labels": {…}}, "provider_account_id": "…", "token_type": "Bearer"}`.
//! A bad line is named by its number and skipped; the others go on. A second run skips what the
//! first imported (the import id names the connection). No value of a line is ever printed.

use std::io::BufRead as _;
use std::path::Path;

use latchkey_proto::v1 as pb;
use serde_json::{Map, Value};

use super::{Clients, Refused, usage};

/// Every field a line may hold.
const FIELDS: &[&str] = &[
    "import_id",
    "tenant",
    "integration_id",
    "access_token",
    "refresh_token",
    "expires_at",
    "scopes",
    "metadata",
    "profile",
    "provider_account_id",
    "token_type",
];

/// Some lines were refused (each named); the others were imported: exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0} lines were not imported (named above); the others were")]
pub struct LinesRefused(pub usize);

/// A line as a request, or why it is not one (naming fields, never their values).
pub fn parse_line(
    line: &str,
    integration: Option<&str>,
) -> Result<pb::ImportConnectionRequest, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        // serde_json's syntax errors say where, not what: no value is repeated.
        format!("not a JSON object ({})", syntax_only(&e))
    })?;
    let Value::Object(object) = value else {
        return Err("not a JSON object".to_owned());
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field {unknown:?} (known: {})",
            FIELDS.join(", ")
        ));
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key}: must be a string")),
        }
    };
    let required = |key: &str| -> Result<String, String> {
        text(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{key}: is required"))
    };
    let import_id = required("import_id").map_err(|e| {
        format!("{e} (the connection's id in the store it comes from, so a second run skips it)")
    })?;
    let integration_id = match text("integration_id")? {
        Some(id) => id,
        None => integration
            .map(str::to_owned)
            .ok_or_else(|| "integration_id: is required (or give --integration)".to_owned())?,
    };
    let expires_at = match text("expires_at")? {
        None => None,
        Some(t) => {
            let at = chrono::DateTime::parse_from_rfc3339(&t)
                .map_err(|_| "expires_at: is not an RFC 3339 time".to_owned())?;
            Some(prost_types::Timestamp {
                seconds: at.timestamp(),
                nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
            })
        }
    };
    let scopes = match object.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "scopes: must be strings".to_owned())?,
        Some(_) => {
            return Err(
                "scopes: must be a list of strings or one space-separated string".to_owned(),
            );
        }
    };
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(to_struct(map)),
        Some(_) => return Err("metadata: must be an object".to_owned()),
    };
    let connection_params = match object.get("connection_params") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(v) => Ok((k.clone(), v.clone())),
                _ => Err(format!("connection_params.{k}: must be a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("connection_params: must be an object".to_owned()),
    };
    let profile = match object.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(profile(p)?),
        Some(_) => return Err("profile: must be an object".to_owned()),
    };
    Ok(pb::ImportConnectionRequest {
        integration_id,
        tenant: required("tenant")?,
        access_token: required("access_token")?,
        refresh_token: text("refresh_token")?.unwrap_or_default(),
        expires_at,
        scopes,
        metadata,
        profile,
        import_id,
        provider_account_id: text("provider_account_id")?.unwrap_or_default(),
        token_type: text("token_type")?.unwrap_or_default(),
        connection_params,
    })
}

fn syntax_only(e: &serde_json::Error) -> String {
    format!("{:?} at column {}", e.classify(), e.column())
}

fn profile(p: &Map<String, Value>) -> Result<pb::ConnectionProfile, String> {
    let text = |key: &str| match p.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("profile.{key}: must be a string")),
    };
    let labels = match p.get("labels") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(|| "profile.labels: values must be strings".to_owned())?,
        Some(_) => return Err("profile.labels: must be an object".to_owned()),
    };
    Ok(pb::ConnectionProfile {
        name: text("name")?,
        description: text("description")?,
        labels,
    })
}

fn to_struct(map: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: map.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
    }
}

fn to_value(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_value).collect(),
        }),
        Value::Object(map) => Kind::StructValue(to_struct(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Imports every line; bad lines are named on standard error and counted.
pub async fn run(
    clients: &Clients,
    file: &Path,
    integration: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let stdin = file == Path::new("-");
    let open = || -> anyhow::Result<Box<dyn std::io::BufRead>> {
        if stdin {
            Ok(Box::new(std::io::stdin().lock()))
        } else {
            let f = std::fs::File::open(file)
                .map_err(|e| usage(format!("FILE: cannot read {}: {e}", file.display())))?;
            Ok(Box::new(std::io::BufReader::new(f)))
        }
    };
    // The length first, for the progress bar (not for standard input, which is read once).
    let total = if stdin {
        None
    } else {
        Some(open()?.lines().count())
    };
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} lines ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        ),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let mut client = clients.connections();
    let (mut imported, mut skipped, mut refused) = (0usize, 0usize, 0usize);
    for (index, line) in open()?.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| anyhow::anyhow!("reading line {number}: {e}"))?;
        bar.inc(1);
        if line.trim().is_empty() {
            continue;
        }
        let request = match parse_line(&line, integration.as_deref()) {
            Ok(request) => request,
            Err(reason) => {
                bar.suspend(|| eprintln!("line {number}: {reason}"));
                refused += 1;
                continue;
            }
        };
        match client.import_connection(request).await {
            Ok(answer) if answer.get_ref().created => imported += 1,
            Ok(_) => skipped += 1,
            Err(status) => {
                let refusal = Refused(status);
                if refusal.exit_code() == 2 {
                    bar.suspend(|| eprintln!("line {number}: {refusal}"));
                    refused += 1;
                } else {
                    bar.finish_and_clear();
                    print_counts(imported, skipped, refused, json);
                    return Err(anyhow::Error::new(refusal).context(format!(
                        "stopped at line {number}; the lines before it are imported, a second \
                         run skips them"
                    )));
                }
            }
        }
    }
    bar.finish_and_clear();
    print_counts(imported, skipped, refused, json);
    if refused > 0 {
        return Err(LinesRefused(refused).into());
    }
    Ok(())
}

/// What an import did: lines imported, already there, refused.
fn print_counts(imported: usize, skipped: usize, refused: usize, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "imported": imported, "already_there": skipped, "refused": refused
            })
        );
    } else {
        println!("imported {imported}, already there {skipped}, refused {refused}");
    }
}
