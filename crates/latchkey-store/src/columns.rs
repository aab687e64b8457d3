//! The projection tables keep, beside each row's state, columns that queries filter on (a
//! connection's tenant, integration and status; an integration's name). What a row says in them
//! must be what its state says: a row whose columns were edited by hand is read back with each
//! differing column added to its state as `"column <name>"`, so comparing it with a replay of the
//! log (`latchkey verify --projections`) names the edit.

use serde_json::Value;

/// The state columns of a connection row, as (column, JSON pointer into the state).
pub(crate) const CONNECTION: [(&str, &str); 4] = [
    ("tenant", "/tenant"),
    ("integration_id", "/integration_id"),
    ("status", "/status"),
    ("version", "/version"),
];

/// The state columns of an integration row.
pub(crate) const INTEGRATION: [(&str, &str); 3] = [
    ("name", "/config/name"),
    ("deleted", "/deleted"),
    ("version", "/version"),
];

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// `state`, unchanged when every column agrees with it; else with the differing columns added.
pub(crate) fn checked(state: String, columns: &[(&str, &str)], values: &[String]) -> String {
    let Ok(Value::Object(mut parsed)) = serde_json::from_str::<Value>(&state) else {
        return state;
    };
    let root = Value::Object(parsed.clone());
    let mut differs = false;
    for ((column, pointer), value) in columns.iter().zip(values) {
        if text(root.pointer(pointer)) != *value {
            parsed.insert(format!("column {column}"), Value::String(value.clone()));
            differs = true;
        }
    }
    if differs {
        Value::Object(parsed).to_string()
    } else {
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_that_disagrees_with_its_state_is_named() {
        let state = r#"{"tenant":"acme","status":"active","version":3}"#.to_owned();
        let columns = [
            ("tenant", "/tenant"),
            ("status", "/status"),
            ("version", "/version"),
        ];
        let same = ["acme", "active", "3"].map(String::from);
        assert_eq!(checked(state.clone(), &columns, &same), state);
        let moved = ["globex", "active", "3"].map(String::from);
        let read = checked(state, &columns, &moved);
        assert!(read.contains(r#""column tenant":"globex""#), "{read}");
    }
}
