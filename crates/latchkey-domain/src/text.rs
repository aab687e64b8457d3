//! Text that came from outside (a provider's error code and description, a callback's query) made
//! inert before it is recorded: bounded, and without the control characters that would move a
//! terminal's cursor, recolour it or hide what follows when a CLI prints the log.

/// At most this many characters of a provider's error code are kept.
pub const MAX_ERROR_CODE: usize = 64;
/// At most this many characters of a provider's error description are kept.
pub const MAX_DESCRIPTION: usize = 1_000;

/// Whether a character must not be printed raw: C0 and C1 controls (escape among them), and the
/// bidirectional overrides and isolates that reorder what a reader sees.
pub fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` without unprintable characters (each becomes a space, runs of them one), cut to `max`
/// characters (the last of them `…` when it was cut).
pub fn inert(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut count = 0;
    let mut last_space = false;
    for c in text.chars() {
        let c = if is_unprintable(c) { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max {
            out.pop();
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// [`inert`] for an optional text.
pub fn inert_opt(text: Option<String>, max: usize) -> Option<String> {
    text.map(|t| inert(&t, max))
}

/// `text` for a terminal: each unprintable character written as its escape (`\u{1b}`), the rest
/// as it is. For what a CLI prints from the log, however it got there.
pub fn escaped_for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if is_unprintable(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_bounded_and_loses_its_control_characters() {
        let hostile = format!("bad\u{1b}[31mred\u{1b}[0m\r\n{}", "x".repeat(20_000));
        let kept = inert(&hostile, MAX_DESCRIPTION);
        assert_eq!(kept.chars().count(), MAX_DESCRIPTION);
        assert!(kept.ends_with('…'));
        assert!(!kept.chars().any(is_unprintable), "{kept:.40}");
        assert!(kept.starts_with("bad [31mred [0m x"), "{kept:.40}");
        assert_eq!(inert("invalid_grant", MAX_ERROR_CODE), "invalid_grant");
        assert_eq!(inert("a\u{202e}b", 10), "a b");
    }

    #[test]
    fn a_terminal_sees_escapes_not_control_characters() {
        assert_eq!(escaped_for_terminal("plain"), "plain");
        assert_eq!(escaped_for_terminal("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
    }
}
