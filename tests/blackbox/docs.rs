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
