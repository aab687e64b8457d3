//! The path templates of `google.api.http` (AIP-127) the API uses: literal segments, `{field}`
//! (one segment, bound to a field of the request) and a final `:verb`. A template with more
//! (`**`, `{field=pattern}`) is refused when the routes are built, so an annotation the server
//! would not honour fails its start-up and its tests, not a caller.

/// One parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    verb: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A field path (`connection_id`, `profile.name`).
    Field(String),
}

impl Template {
    /// Parses `/v1/connections/{connection_id}:refresh`.
    pub fn parse(template: &str) -> Result<Self, String> {
        let path = template
            .strip_prefix('/')
            .ok_or_else(|| format!("{template}: a template starts with '/'"))?;
        // The verb follows the last ':' outside braces.
        let (path, verb) = match path.rfind(':') {
            Some(i) if !path[i..].contains('}') => (&path[..i], Some(path[i + 1..].to_owned())),
            _ => (path, None),
        };
        if verb.as_deref().is_some_and(|v| !is_literal(v)) {
            return Err(format!("{template}: the verb is not a plain word"));
        }
        let mut segments = Vec::new();
        for segment in path.split('/') {
            if let Some(field) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if field.is_empty() || !field.split('.').all(is_field_name) {
                    return Err(format!(
                        "{template}: {{{field}}} is not a field path (patterns are not supported)"
                    ));
                }
                segments.push(Segment::Field(field.to_owned()));
            } else if is_literal(segment) {
                segments.push(Segment::Literal(segment.to_owned()));
            } else {
                return Err(format!("{template}: segment {segment:?} is not supported"));
            }
        }
        Ok(Self { segments, verb })
    }

    /// The fields a path binds, with their (percent-decoded) values; `None` when it does not match.
    pub fn matches(&self, path: &str) -> Option<Vec<(&str, String)>> {
        let path = path.strip_prefix('/')?;
        let path = match &self.verb {
            Some(verb) => path.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            None => path,
        };
        let mut parts = path.split('/');
        let mut bound = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Field(field) => {
                    // A bound value is one whole segment: no ':' (a verb the route lacks) and
                    // never empty.
                    if part.is_empty() || part.contains(':') {
                        return None;
                    }
                    bound.push((field.as_str(), percent_decode(part)?));
                }
            }
        }
        parts.next().is_none().then_some(bound)
    }
}

fn is_literal(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn is_field_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `%XX` escapes of a path segment or query value decoded (and `+` as a space when `plus`);
/// `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode_with(s: &str, plus: bool) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    percent_decode_with(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_binds_its_fields_and_honours_its_verb() {
        let t = Template::parse("/v1/connections/{connection_id}:refresh").expect("parses");
        let bound = t
            .matches("/v1/connections/abc%2Fd:refresh")
            .expect("matches");
        assert_eq!(bound, vec![("connection_id", "abc/d".to_owned())]);
        assert!(t.matches("/v1/connections/abc").is_none());
        assert!(t.matches("/v1/connections/abc:revoke").is_none());
        assert!(t.matches("/v1/connections/:refresh").is_none());

        let get = Template::parse("/v1/connections/{connection_id}").expect("parses");
        assert!(get.matches("/v1/connections/abc:refresh").is_none());
        assert!(get.matches("/v1/connections/abc/token").is_none());
        assert!(get.matches("/v1/connections").is_none());
        assert!(get.matches("/v1/connections/abc").is_some());

        let import = Template::parse("/v1/connections:import").expect("parses");
        assert_eq!(import.matches("/v1/connections:import"), Some(vec![]));
        assert!(import.matches("/v1/connections").is_none());
    }

    #[test]
    fn templates_beyond_what_the_server_honours_are_refused() {
        for bad in [
            "v1/x",
            "/v1/{name=connections/*}",
            "/v1/**",
            "/v1/{}",
            "/v1/x:{y}",
            "/v1/{Name}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn bad_escapes_do_not_match() {
        let t = Template::parse("/v1/connections/{connection_id}").expect("parses");
        assert!(t.matches("/v1/connections/%zz").is_none());
        assert!(t.matches("/v1/connections/%ff").is_none());
        assert_eq!(
            percent_decode_with("a+b%20c", true).as_deref(),
            Some("a b c")
        );
    }
}
