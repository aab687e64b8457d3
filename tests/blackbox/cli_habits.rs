//! The command line's habits (issue 41): `--json` on every command that prints data, in the
//! shapes docs/CLI.md gives; help that lists only the command's own flags; `--server host:port`;
//! no API key on the command line; completions; the master key from the environment for `keys`;
//! a database that cannot be reached named with its cause and setting at once; no colour codes
//! in a log that is not a terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{Mode, Server, cc_integration, command};

/// Commands that print no data of their own: the server, the development provider, a shell's
/// completion script, and a bare new key meant for a variable or a file.
const NO_DATA: [&str; 4] = ["serve", "dev-provider", "completions", "keys generate"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
}

#[test]
fn every_command_that_prints_data_takes_json_and_the_reference_is_current() {
    let mut without = Vec::new();
    let leaves = latchkey::commands::reference::leaves();
    assert!(leaves.len() > 40, "the tree was walked: {}", leaves.len());
    for (path, command) in &leaves {
        let name = path.join(" ");
        let has_json = command.get_arguments().any(|a| a.get_id() == "json");
        if !has_json && !NO_DATA.contains(&name.as_str()) {
            without.push(name);
        }
    }
    assert!(without.is_empty(), "no --json: {without:?}");

    let path = root().join("docs/CLI.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = doc
        .split_once("<!-- reference:begin -->\n")
        .expect("docs/CLI.md's reference:begin marker");
    let (listed, after) = rest
        .split_once("<!-- reference:end -->")
        .expect("docs/CLI.md's reference:end marker");
    let reference = latchkey::commands::reference::markdown();
    if std::env::var_os("LATCHKEY_WRITE_DOCS").is_some() {
        let text =
            format!("{before}<!-- reference:begin -->\n{reference}<!-- reference:end -->{after}");
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert_eq!(
        listed, reference,
        "docs/CLI.md's reference differs from the command line (LATCHKEY_WRITE_DOCS=1 writes it)"
    );
}

/// The JSON shapes docs/CLI.md promises: command → its objects' top-level keys.
fn documented_shapes() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(root().join("docs/CLI.md")).unwrap();
    let shapes = doc
        .split_once("<!-- json:begin -->")
        .and_then(|(_, rest)| rest.split_once("<!-- json:end -->"))
        .expect("docs/CLI.md's json markers")
        .0;
    shapes
        .lines()
        .filter_map(|line| line.strip_prefix("- `latchkey "))
        .map(|line| {
            let (command, keys) = line.split_once("`").unwrap();
            let keys = keys
                .split_once(':')
                .map(|(_, k)| k)
                .unwrap_or_default()
                .split(',')
                .map(|k| k.trim().trim_end_matches('.').trim_matches('`').to_owned())
                .filter(|k| !k.is_empty())
                .collect();
            (command.trim_end_matches(" --json").to_owned(), keys)
        })
        .collect()
}

/// Checks one command's JSON output (one object, or one per line) against docs/CLI.md.
fn assert_documented(shapes: &BTreeMap<String, BTreeSet<String>>, command: &str, out: &str) {
    let want = shapes
        .get(command)
        .unwrap_or_else(|| panic!("docs/CLI.md gives no JSON shape for `latchkey {command}`"));
    let mut objects = 0;
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{command} --json: not JSON ({e}): {line}"));
        let keys: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            &keys, want,
            "{command} --json: keys differ from docs/CLI.md"
        );
        objects += 1;
    }
    assert!(objects > 0, "{command} --json printed nothing");
}

async fn run(args: &[&str], env: &[(String, String)], cwd: &Path) -> (i32, String, String) {
    let output = command(args, env, cwd).output().await.unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_commands_print_the_documented_json_and_keys_take_the_master_key_from_the_environment()
 {
    let shapes = documented_shapes();
    let mode = Mode::postgres().await;
    let Mode::Postgres { master_key, .. } = &mode else {
        unreachable!()
    };
    let old_key = master_key.clone();
    let cwd = latchkey_store::testing::TempDir::create();
    let env = mode.env();

    let (code, out, err) = run(&["migrate", "--json"], &env, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "migrate", &out);

    // A data key to re-wrap: an integration's sealed client secret.
    let provider = latchkey_fake_provider::FakeProvider::start(Default::default())
        .await
        .unwrap();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    server
        .integrations()
        .await
        .create_integration(cc_integration(&provider, "rewrapped"))
        .await
        .unwrap();

    let (code, out, err) = run(&["keys", "list", "--json"], &env, &cwd.path).await;
    assert_eq!(code, 0, "keys list with LATCHKEY_MASTER_KEY: {err}");
    assert_documented(&shapes, "keys list", &out);
    let listed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(listed["role"], "active");
    assert!(listed["data_keys"].as_u64().unwrap() >= 1, "{out}");
    let (code, out, _) = run(&["keys", "list"], &env, &cwd.path).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("ID"), "a table with its header: {out}");

    // One key in the environment: rotation says what to do, and changes nothing.
    let (code, _, err) = run(&["keys", "rotate"], &env, &cwd.path).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("latchkey keys generate"), "{err}");
    let (code, new_key, err) = run(&["keys", "generate"], &[], &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    // The servers restart with the new key first; then the rotation re-wraps onto it.
    server.stop().await;
    let both: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| match k.as_str() {
            "LATCHKEY_MASTER_KEY" => (k.clone(), format!("{},{old_key}", new_key.trim())),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let (code, out, err) = run(&["keys", "rotate", "--json"], &both, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "keys rotate", &out);
    let rotated: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(rotated["rewrapped"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(rotated["added"], false);
    let retired = rotated["retired"][0].as_str().unwrap().to_owned();
    let (code, out, err) = run(&["keys", "drop", &retired, "--json"], &both, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "keys drop", &out);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["may_drop"],
        true
    );

    let (code, out, err) = run(
        &["apikeys", "create", "--name", "ci", "--json"],
        &env,
        &cwd.path,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "apikeys create", &out);
    let created: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let id = created["record"]["id"].as_str().unwrap().to_owned();
    let (code, out, _) = run(&["apikeys", "list", "--json"], &env, &cwd.path).await;
    assert_eq!(code, 0);
    assert_documented(&shapes, "apikeys list", &out);
    assert!(!out.contains(created["key"].as_str().unwrap()), "no secret");
    let (code, out, _) = run(&["apikeys", "list"], &env, &cwd.path).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("ID") && out.contains(&id), "{out}");
    let (code, out, _) = run(&["apikeys", "revoke", &id, "--json"], &env, &cwd.path).await;
    assert_eq!(code, 0);
    assert_documented(&shapes, "apikeys revoke", &out);

    let (code, out, err) = run(&["verify", "--json", "--projections"], &env, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "verify", &out);
    let (code, out, err) = run(&["rebuild-projections", "--json"], &env, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&shapes, "rebuild-projections", &out);
    cwd.remove();
    mode.cleanup().await;
}

#[tokio::test]
async fn each_commands_help_lists_its_own_flags_and_no_listener_or_nats_setting() {
    let cwd = latchkey_store::testing::TempDir::create();
    for args in [
        &["verify", "--help"][..],
        &["migrate", "--help"],
        &["apikeys", "list", "--help"],
        &["keys", "rotate", "--help"],
    ] {
        let (code, out, _) = run(args, &[], &cwd.path).await;
        assert_eq!(code, 0);
        assert!(out.contains("--database-url"), "{args:?}: {out}");
        for foreign in [
            "--grpc-addr",
            "--nats-url",
            "--refresh-rate",
            "--public-url",
        ] {
            assert!(!out.contains(foreign), "{args:?} lists {foreign}");
        }
        assert!(out.lines().count() < 25, "{args:?}: {out}");
    }
    let (code, out, _) = run(&["completions", "bash"], &[], &cwd.path).await;
    assert_eq!(code, 0);
    assert!(out.contains("_latchkey()") && out.contains("rebuild-projections"));
    cwd.remove();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_host_port_and_an_api_key_never_comes_from_the_command_line() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let cwd = latchkey_store::testing::TempDir::create();
    let addr = server.grpc_addr.to_string();
    let (code, out, err) = run(
        &["integrations", "templates", "--server", &addr],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("TEMPLATE"), "{out}");
    let (code, out, err) = run(
        &["integrations", "templates", "--json", "--server", &addr],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_documented(&documented_shapes(), "integrations templates", &out);

    let (code, _, err) = run(
        &[
            "integrations",
            "list",
            "--server",
            &addr,
            "--api-key",
            "lk_x",
        ],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("LATCHKEY_API_KEY") && err.contains("--api-key-file") && !err.contains("lk_x"),
        "{err}"
    );
    let (code, _, err) = run(
        &["integrations", "list", "--server", "nowhere"],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("--server") && err.contains("host:port"),
        "{err}"
    );
    let (code, _, err) = run(
        &["integrations", "list", "--server", "127.0.0.1:1"],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 3);
    assert!(
        err.contains("--server") && err.to_lowercase().contains("refused"),
        "says why, not only 'transport error': {err}"
    );
    server.stop().await;
    cwd.remove();
    mode.cleanup().await;
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_named_with_its_cause_within_five_seconds() {
    let cwd = latchkey_store::testing::TempDir::create();
    for (url, cause) in [
        ("postgres://postgres@127.0.0.1:1/latchkey", "refused"),
        (
            "postgres://postgres@no-such-host.invalid/latchkey",
            "not resolved",
        ),
    ] {
        let env = vec![("LATCHKEY_DATABASE_URL".to_owned(), url.to_owned())];
        let started = Instant::now();
        let (code, _, err) = run(&["verify"], &env, &cwd.path).await;
        assert!(started.elapsed() < Duration::from_secs(5), "{url}: {err}");
        assert_eq!(code, 3, "{err}");
        assert!(
            err.contains("LATCHKEY_DATABASE_URL") && err.contains(cause),
            "{url}: {err}"
        );
    }
    cwd.remove();
}

#[tokio::test]
async fn log_lines_written_to_a_pipe_carry_no_colour_codes() {
    let mode = Mode::embedded();
    let cwd = latchkey_store::testing::TempDir::create();
    let mut env = mode.env();
    env.push(("LATCHKEY_LOG".to_owned(), "debug".to_owned()));
    let (code, _, err) = run(&["migrate"], &env, &cwd.path).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("DEBUG") || err.contains("INFO"),
        "it logged: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "escape codes in a piped log: {err:?}"
    );
    cwd.remove();
    mode.cleanup().await;
}

/// `integrations create --discover --issuer …` alone (no `--grant-type`): the endpoints come from
/// the issuer's metadata and the grant is the authorization code, as `--help` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_is_created_from_the_issuers_metadata_without_naming_its_grant() {
    let provider = crate::oidc_provider::OidcProvider::start(serde_json::json!({
        "clients": [{
            "client_id": "crm",
            "client_secret": "crm-secret",
            "redirect_uris": ["http://127.0.0.1:9/oauth/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }]
    }))
    .await;
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    let cwd = latchkey_store::testing::TempDir::create();
    let secret = cwd.path.join("secret");
    std::fs::write(&secret, "crm-secret\n").unwrap();
    let addr = server.grpc_addr.to_string();
    let (code, out, err) = run(
        &[
            "integrations",
            "create",
            "--name",
            "Discovered",
            "--discover",
            "--issuer",
            &provider.issuer,
            "--client-id",
            "crm",
            "--client-secret-file",
            &secret.display().to_string(),
            "--json",
            "--server",
            &addr,
        ],
        &[],
        &cwd.path,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let created: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(created["grant_type"], "AUTHORIZATION_CODE");
    assert!(
        created["token_url"]
            .as_str()
            .unwrap()
            .starts_with(&provider.issuer),
        "{created}"
    );
    server.stop().await;
    cwd.remove();
    mode.cleanup().await;
}
