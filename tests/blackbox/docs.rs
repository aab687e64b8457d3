//! The docs cannot go stale where a test can read them: the README's template count is the
//! catalogue's, and the architecture's layer map names every module of the service and no other.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
}

#[test]
fn the_readme_counts_the_templates_the_catalogue_has() {
    let templates = std::fs::read_dir(root().join("providers"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("one of {templates} provider templates")),
        "README.md must say there are {templates} provider templates"
    );
    assert!(readme.lines().count() <= 250, "README.md stays short");
}

#[test]
fn the_api_page_lists_every_http_json_route() {
    let path = root().join("docs/API.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = doc
        .split_once("<!-- routes:begin -->\n")
        .expect("docs/API.md's routes:begin marker");
    let (listed, after) = rest
        .split_once("<!-- routes:end -->")
        .expect("docs/API.md's routes:end marker");
    let routes = latchkey::http_json::routes_markdown().unwrap();
    if std::env::var_os("LATCHKEY_WRITE_DOCS").is_some() {
        let text = format!("{before}<!-- routes:begin -->\n{routes}<!-- routes:end -->{after}");
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert_eq!(
        listed, routes,
        "docs/API.md's routes differ from proto/'s (LATCHKEY_WRITE_DOCS=1 writes them)"
    );
}

#[test]
fn the_layer_map_names_every_module_of_the_service() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let map = doc
        .split("each layer imports only from those below it")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("the layer map's code block");
    let named: BTreeSet<String> = map
        .split_whitespace()
        .map(|t| t.trim_end_matches(','))
        .filter(|t| t.ends_with(".rs") || (t.ends_with('/') && !t.contains(' ')))
        .map(|t| t.trim_end_matches('/').to_owned())
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(root().join("services/latchkey/src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<_> = present.difference(&named).collect();
    let gone: Vec<_> = named.difference(&present).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "docs/ARCHITECTURE.md's layer map: not named {missing:?}; no longer there {gone:?}"
    );
}

/// The Rust sources outside tests, under `crates/` and `services/`: a test module's file
/// (`tests.rs`, `*_tests.rs`, `*_properties.rs`) and `tests/` folders are left out.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" && name != "target" {
                sources(&path, out);
            }
        } else if name.ends_with(".rs")
            && name != "tests.rs"
            && !name.ends_with("_tests.rs")
            && !name.ends_with("_properties.rs")
        {
            out.push(path);
        }
    }
}

/// The functions of `text` longer than `max` lines, counted from the `fn` line to the closing
/// brace at the same indentation, outside `#[cfg(test)]` modules: (line, name, length).
fn long_functions(text: &str, max: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    let mut test_module_at: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = test_module_at {
            if indent <= at && line.trim_start().starts_with('}') {
                test_module_at = None;
            }
            continue;
        }
        if line.trim_start().starts_with("#[cfg(test)]") {
            if lines.get(i + 1).is_some_and(|next| {
                next.trim_start().starts_with("mod ") && next.trim_end().ends_with('{')
            }) {
                test_module_at = Some(indent);
            }
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "fn") else {
            continue;
        };
        if words[..at]
            .iter()
            .any(|w| !matches!(*w, "pub" | "async" | "const" | "unsafe") && !w.starts_with("pub("))
        {
            continue;
        }
        let name = words
            .get(at + 1)
            .map_or("", |w| w.split(['(', '<']).next().unwrap_or(""));
        // The signature ends at `{` (a body) or `;` (a declaration).
        let mut j = i;
        while j < lines.len()
            && !lines[j].trim_end().ends_with('{')
            && !lines[j].trim_end().ends_with(';')
        {
            j += 1;
        }
        if j >= lines.len() || lines[j].trim_end().ends_with(';') {
            continue;
        }
        let end = (j + 1..lines.len())
            .find(|&k| {
                let l = lines[k];
                l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
            })
            .unwrap_or(lines.len() - 1);
        if end - i + 1 > max {
            long.push((i + 1, name.to_owned(), end - i + 1));
        }
    }
    long
}

#[test]
fn no_source_file_is_over_700_lines_and_no_function_over_120() {
    let mut files = Vec::new();
    for dir in ["crates", "services"] {
        sources(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "the sources were found");
    let mut over = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(root()).unwrap().display().to_string();
        let count = text.lines().count();
        if count > 700 {
            over.push(format!("{shown}: {count} lines"));
        }
        for (line, name, length) in long_functions(&text, 120) {
            over.push(format!("{shown}:{line}: fn {name} is {length} lines"));
        }
    }
    assert!(over.is_empty(), "over the limits:\n{}", over.join("\n"));
    // The counter itself sees a long function.
    let long = format!("fn long() {{\n{}}}\n", "    let x = 1;\n".repeat(130));
    assert_eq!(long_functions(&long, 120).len(), 1);
}

/// docs/EVENTS.md names every event type the log can hold.
#[test]
fn the_events_page_names_every_event_type() {
    let doc = std::fs::read_to_string(root().join("docs/EVENTS.md")).unwrap();
    let missing: Vec<_> = latchkey_domain::EVENT_TYPES
        .iter()
        .filter(|t| !doc.contains(&format!("| `{t}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/EVENTS.md does not describe {missing:?}"
    );
}

/// Every check docs/GUARANTEES.md names is a test that exists: `module::test` in
/// `tests/blackbox/module.rs`, and the model it cites.
#[test]
fn every_check_the_guarantees_page_names_exists() {
    let doc = std::fs::read_to_string(root().join("docs/GUARANTEES.md")).unwrap();
    assert!(
        root()
            .join("crates/latchkey-domain/tests/model.rs")
            .exists()
    );
    let mut named = 0;
    let mut missing = Vec::new();
    for quoted in doc.split('`').skip(1).step_by(2) {
        let Some((module, test)) = quoted.split_once("::") else {
            continue;
        };
        let is_name =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !is_name(module) || !is_name(test) {
            continue;
        }
        named += 1;
        let file = root().join(format!("tests/blackbox/{module}.rs"));
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        if !source.contains(&format!("fn {test}(")) {
            missing.push(quoted.to_owned());
        }
    }
    assert!(named >= 20, "the page names its checks ({named} found)");
    assert!(
        missing.is_empty(),
        "docs/GUARANTEES.md names tests that do not exist: {missing:?}"
    );
}
