//! A reply's canonical proto3 JSON, written straight from its wire bytes with the descriptor:
//! no `DynamicMessage` built and dropped per call (that was two thirds of what HTTP/JSON added
//! to a `GetToken`). Timestamps, durations and `Struct`s are written here too; the other
//! well-known types (and anything this writer does not expect) go through prost-reflect, whose
//! output this one matches (a test holds them equal on the API's replies).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};

/// Why the bytes could not be written (the caller then lets prost-reflect try).
#[derive(Debug)]
pub struct Unreadable;

type Out<T = ()> = Result<T, Unreadable>;

#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
}

fn varint(buf: &mut &[u8]) -> Out<u64> {
    prost::encoding::decode_varint(buf).map_err(|_| Unreadable)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Out<&'a [u8]> {
    if buf.len() < n {
        return Err(Unreadable);
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

/// The message's fields in wire order, each number once with every value it came with.
fn fields(bytes: &[u8]) -> Out<Vec<(u32, Vec<Wire<'_>>)>> {
    let mut out: Vec<(u32, Vec<Wire<'_>>)> = Vec::new();
    for (number, wire) in flat(bytes)? {
        match out.iter_mut().find(|(n, _)| *n == number) {
            Some((_, values)) => values.push(wire),
            None => out.push((number, vec![wire])),
        }
    }
    Ok(out)
}

/// The message's fields in wire order, as they came.
fn flat(mut buf: &[u8]) -> Out<Vec<(u32, Wire<'_>)>> {
    let mut out = Vec::with_capacity(8);
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let number = u32::try_from(key >> 3).map_err(|_| Unreadable)?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(&mut buf)?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                take(&mut buf, 8)?.try_into().map_err(|_| Unreadable)?,
            )),
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| Unreadable)?;
                Wire::Len(take(&mut buf, len)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                take(&mut buf, 4)?.try_into().map_err(|_| Unreadable)?,
            )),
            _ => return Err(Unreadable),
        };
        out.push((number, wire));
    }
    Ok(out)
}

/// Writes `bytes`, a `descriptor` message, as JSON.
pub fn message(descriptor: &MessageDescriptor, bytes: &[u8], out: &mut Vec<u8>) -> Out {
    match descriptor.full_name() {
        "google.protobuf.Timestamp" => return timestamp(bytes, out),
        "google.protobuf.Duration" => return duration(bytes, out),
        "google.protobuf.Struct" => return structure(bytes, out),
        "google.protobuf.Value" => return value(bytes, out),
        "google.protobuf.ListValue" => return list(bytes, out),
        name if name.starts_with("google.protobuf.") => {
            let message =
                DynamicMessage::decode(descriptor.clone(), bytes).map_err(|_| Unreadable)?;
            return serde_json::to_writer(out, &message).map_err(|_| Unreadable);
        }
        _ => {}
    }
    out.push(b'{');
    let mut first = true;
    let all = flat(bytes)?;
    for (i, &(number, _)) in all.iter().enumerate() {
        // Each number once, where it first came, with every value it came with.
        if all[..i].iter().any(|(n, _)| *n == number) {
            continue;
        }
        let Some(field) = descriptor.get_field(number) else {
            continue;
        };
        let mut values = all[i..]
            .iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, wire)| *wire);
        if !first {
            out.push(b',');
        }
        first = false;
        string(field.json_name(), out)?;
        out.push(b':');
        if field.is_map() {
            map(&field, &values.collect::<Vec<_>>(), out)?;
        } else if field.is_list() {
            out.push(b'[');
            let mut first = true;
            for wire in values {
                for item in unpacked(&field.kind(), wire)? {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    scalar(&field.kind(), item, out)?;
                }
            }
            out.push(b']');
        } else {
            let last = values.next_back().ok_or(Unreadable)?;
            scalar(&field.kind(), last, out)?;
        }
    }
    out.push(b'}');
    Ok(())
}

/// A repeated scalar's values: a packed run split, anything else as it came.
fn unpacked<'a>(kind: &Kind, wire: Wire<'a>) -> Out<Vec<Wire<'a>>> {
    let Wire::Len(mut run) = wire else {
        return Ok(vec![wire]);
    };
    let mut items = Vec::new();
    match kind {
        Kind::String | Kind::Bytes | Kind::Message(_) => return Ok(vec![wire]),
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => {
            while !run.is_empty() {
                let bytes = take(&mut run, 8)?.try_into().map_err(|_| Unreadable)?;
                items.push(Wire::Fixed64(u64::from_le_bytes(bytes)));
            }
        }
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => {
            while !run.is_empty() {
                let bytes = take(&mut run, 4)?.try_into().map_err(|_| Unreadable)?;
                items.push(Wire::Fixed32(u32::from_le_bytes(bytes)));
            }
        }
        _ => {
            while !run.is_empty() {
                items.push(Wire::Varint(varint(&mut run)?));
            }
        }
    }
    Ok(items)
}

fn map(field: &FieldDescriptor, entries: &[Wire<'_>], out: &mut Vec<u8>) -> Out {
    let Kind::Message(entry) = field.kind() else {
        return Err(Unreadable);
    };
    let key_kind = entry.map_entry_key_field().kind();
    let value_kind = entry.map_entry_value_field().kind();
    out.push(b'{');
    for (i, wire) in entries.iter().enumerate() {
        let Wire::Len(bytes) = wire else {
            return Err(Unreadable);
        };
        if i > 0 {
            out.push(b',');
        }
        let parts = fields(bytes)?;
        let part = |n: u32| {
            parts
                .iter()
                .find(|(k, _)| *k == n)
                .and_then(|(_, v)| v.last())
        };
        // A key or value left out is its default.
        match part(1) {
            Some(key) => {
                let mut written = Vec::new();
                scalar(&key_kind, *key, &mut written)?;
                if written.first() == Some(&b'"') {
                    out.extend_from_slice(&written);
                } else {
                    string(std::str::from_utf8(&written).map_err(|_| Unreadable)?, out)?;
                }
            }
            None if key_kind == Kind::Bool => out.extend_from_slice(b"\"false\""),
            None if key_kind == Kind::String => out.extend_from_slice(b"\"\""),
            None => out.extend_from_slice(b"\"0\""),
        }
        out.push(b':');
        match part(2) {
            Some(value) => scalar(&value_kind, *value, out)?,
            None => default(&value_kind, out)?,
        }
    }
    out.push(b'}');
    Ok(())
}

/// A map value left out: its default.
fn default(kind: &Kind, out: &mut Vec<u8>) -> Out {
    match kind {
        Kind::String | Kind::Bytes => out.extend_from_slice(b"\"\""),
        Kind::Bool => out.extend_from_slice(b"false"),
        Kind::Message(descriptor) => message(descriptor, &[], out)?,
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            out.extend_from_slice(b"\"0\"")
        }
        Kind::Enum(e) => match e.get_value(0) {
            Some(zero) => string(zero.name(), out)?,
            None => out.push(b'0'),
        },
        _ => out.push(b'0'),
    }
    Ok(())
}

fn scalar(kind: &Kind, wire: Wire<'_>, out: &mut Vec<u8>) -> Out {
    // Two's complement of the varint, as protobuf sends negative int32/int64.
    let signed = |v: u64| v as i64;
    let zigzag = |v: u64| ((v >> 1) as i64) ^ -((v & 1) as i64);
    match (kind, wire) {
        (Kind::Double, Wire::Fixed64(bits)) => float(f64::from_bits(bits), out),
        (Kind::Float, Wire::Fixed32(bits)) => {
            let f = f32::from_bits(bits);
            if f.is_finite() {
                json(out, &f)
            } else {
                float(f64::from(f), out)
            }
        }
        (Kind::Int32, Wire::Varint(v)) => json(out, &(signed(v) as i32)),
        (Kind::Sint32, Wire::Varint(v)) => json(out, &(zigzag(v) as i32)),
        (Kind::Uint32, Wire::Varint(v)) => json(out, &(v as u32)),
        (Kind::Fixed32, Wire::Fixed32(v)) => json(out, &v),
        (Kind::Sfixed32, Wire::Fixed32(v)) => json(out, &(v as i32)),
        (Kind::Int64, Wire::Varint(v)) => quoted(out, &signed(v)),
        (Kind::Sint64, Wire::Varint(v)) => quoted(out, &zigzag(v)),
        (Kind::Uint64, Wire::Varint(v)) | (Kind::Fixed64, Wire::Fixed64(v)) => quoted(out, &v),
        (Kind::Sfixed64, Wire::Fixed64(v)) => quoted(out, &(v as i64)),
        (Kind::Bool, Wire::Varint(v)) => {
            out.extend_from_slice(if v != 0 { b"true" } else { b"false" });
            Ok(())
        }
        (Kind::String, Wire::Len(bytes)) => {
            string(std::str::from_utf8(bytes).map_err(|_| Unreadable)?, out)
        }
        (Kind::Bytes, Wire::Len(bytes)) => string(&STANDARD.encode(bytes), out),
        (Kind::Enum(e), Wire::Varint(v)) => {
            let number = signed(v) as i32;
            match e.get_value(number) {
                Some(value) => string(value.name(), out),
                None => json(out, &number),
            }
        }
        (Kind::Message(descriptor), Wire::Len(bytes)) => message(descriptor, bytes, out),
        _ => Err(Unreadable),
    }
}

/// A number serde_json writes as itself.
fn json<T: serde::Serialize>(out: &mut Vec<u8>, v: &T) -> Out {
    serde_json::to_writer(out, v).map_err(|_| Unreadable)
}

fn quoted(out: &mut Vec<u8>, v: &dyn std::fmt::Display) -> Out {
    use std::io::Write as _;
    write!(out, "\"{v}\"").map_err(|_| Unreadable)
}

fn string(s: &str, out: &mut Vec<u8>) -> Out {
    serde_json::to_writer(out, s).map_err(|_| Unreadable)
}

/// A double as proto3 JSON has it: a number, or "NaN"/"Infinity"/"-Infinity".
fn float(f: f64, out: &mut Vec<u8>) -> Out {
    if f.is_nan() {
        string("NaN", out)
    } else if f.is_infinite() {
        string(if f > 0.0 { "Infinity" } else { "-Infinity" }, out)
    } else {
        serde_json::to_writer(out, &f).map_err(|_| Unreadable)
    }
}

/// `seconds` (field 1) and `nanos` (field 2) of a Timestamp or a Duration.
fn seconds_and_nanos(bytes: &[u8]) -> Out<(i64, i32)> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    for (number, values) in fields(bytes)? {
        match (number, values.last()) {
            (1, Some(Wire::Varint(v))) => seconds = *v as i64,
            (2, Some(Wire::Varint(v))) => nanos = *v as i64 as i32,
            _ => return Err(Unreadable),
        }
    }
    Ok((seconds, nanos))
}

/// Nanoseconds as 0, 3, 6 or 9 digits after a point, as proto3 JSON writes them.
fn fraction(nanos: u32, out: &mut String) {
    if nanos == 0 {
    } else if nanos.is_multiple_of(1_000_000) {
        out.push_str(&format!(".{:03}", nanos / 1_000_000));
    } else if nanos.is_multiple_of(1_000) {
        out.push_str(&format!(".{:06}", nanos / 1_000));
    } else {
        out.push_str(&format!(".{nanos:09}"));
    }
}

fn timestamp(bytes: &[u8], out: &mut Vec<u8>) -> Out {
    let (seconds, nanos) = seconds_and_nanos(bytes)?;
    let nanos = u32::try_from(nanos).map_err(|_| Unreadable)?;
    let at = chrono::DateTime::from_timestamp(seconds, 0).ok_or(Unreadable)?;
    let (date, time) = (at.date_naive(), at.time());
    use chrono::{Datelike as _, Timelike as _};
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    fraction(nanos, &mut text);
    text.push('Z');
    string(&text, out)
}

fn duration(bytes: &[u8], out: &mut Vec<u8>) -> Out {
    let (seconds, nanos) = seconds_and_nanos(bytes)?;
    let mut text = String::new();
    if seconds < 0 || nanos < 0 {
        text.push('-');
    }
    text.push_str(&seconds.unsigned_abs().to_string());
    fraction(nanos.unsigned_abs(), &mut text);
    text.push('s');
    string(&text, out)
}

/// A `Struct`: its `fields` map (1) of `Value`s.
fn structure(bytes: &[u8], out: &mut Vec<u8>) -> Out {
    out.push(b'{');
    for (i, (number, entries)) in fields(bytes)?.into_iter().enumerate() {
        if number != 1 || i > 0 {
            return Err(Unreadable);
        }
        for (j, entry) in entries.iter().enumerate() {
            let Wire::Len(entry) = entry else {
                return Err(Unreadable);
            };
            if j > 0 {
                out.push(b',');
            }
            let parts = fields(entry)?;
            let part = |n: u32| {
                parts
                    .iter()
                    .find(|(k, _)| *k == n)
                    .and_then(|(_, v)| v.last())
            };
            match part(1) {
                Some(Wire::Len(key)) => {
                    string(std::str::from_utf8(key).map_err(|_| Unreadable)?, out)?
                }
                None => string("", out)?,
                Some(_) => return Err(Unreadable),
            }
            out.push(b':');
            match part(2) {
                Some(Wire::Len(v)) => value(v, out)?,
                None => value(&[], out)?,
                Some(_) => return Err(Unreadable),
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// A `Value`: null (1), number (2), string (3), bool (4), struct (5) or list (6).
fn value(bytes: &[u8], out: &mut Vec<u8>) -> Out {
    let parts = fields(bytes)?;
    match parts.last().and_then(|(n, v)| v.last().map(|w| (*n, *w))) {
        None | Some((1, Wire::Varint(_))) => out.extend_from_slice(b"null"),
        Some((2, Wire::Fixed64(bits))) => {
            let f = f64::from_bits(bits);
            if !f.is_finite() {
                return Err(Unreadable);
            }
            serde_json::to_writer(&mut *out, &f).map_err(|_| Unreadable)?;
        }
        Some((3, Wire::Len(s))) => string(std::str::from_utf8(s).map_err(|_| Unreadable)?, out)?,
        Some((4, Wire::Varint(b))) => {
            out.extend_from_slice(if b != 0 { b"true" } else { b"false" })
        }
        Some((5, Wire::Len(s))) => structure(s, out)?,
        Some((6, Wire::Len(l))) => list(l, out)?,
        Some(_) => return Err(Unreadable),
    }
    Ok(())
}

/// A `ListValue`: its `values` (1).
fn list(bytes: &[u8], out: &mut Vec<u8>) -> Out {
    out.push(b'[');
    let mut first = true;
    for (number, values) in fields(bytes)? {
        if number != 1 {
            return Err(Unreadable);
        }
        for wire in values {
            let Wire::Len(v) = wire else {
                return Err(Unreadable);
            };
            if !first {
                out.push(b',');
            }
            first = false;
            value(v, out)?;
        }
    }
    out.push(b']');
    Ok(())
}
