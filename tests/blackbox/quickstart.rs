//! The README's quickstart, run as written (only its ports swapped for free ones): from nothing
//! but the binary to a token.

use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shell block between the README's quickstart markers.
fn quickstart() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("<!-- quickstart:begin")
        .expect("quickstart marker");
    let end = readme
        .find("<!-- quickstart:end -->")
        .expect("quickstart end");
    let block = &readme[start..end];
    let body = block
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(body, _)| body)
        .expect("a sh block");
    body.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quickstart_runs_as_written_and_ends_with_a_token() {
    let script = quickstart();
    assert!(script.contains("latchkey dev-provider") && script.contains("latchkey token"));
    let provider_port = free_port().to_string();
    let grpc = format!("127.0.0.1:{}", free_port());
    let script = script
        .replace("9000", &provider_port)
        .replace("127.0.0.1:50051", &grpc);
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_latchkey"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = latchkey_store::testing::TempDir::create();
    let mut command = tokio::process::Command::new("bash");
    command
        .args(["-e", "-c", &script])
        .current_dir(&dir.path)
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            command.env_remove(key);
        }
    }
    // Its own process group, so whatever it leaves running when it fails is stopped too.
    let child = command
        .process_group(0)
        .env("PATH", path)
        // The server and the CLI on a free port instead of 50051 (and HTTP off 8080 and 9090).
        .env("LATCHKEY_GRPC_ADDR", &grpc)
        .env("LATCHKEY_SERVER", format!("http://{grpc}"))
        .env("LATCHKEY_HTTP_ADDR", "127.0.0.1:0")
        .env("LATCHKEY_ADMIN_ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let group = child.id().expect("running").to_string();
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output()).await;
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(std::process::Stdio::null())
        .status();
    let output = match output {
        Ok(output) => output.unwrap(),
        Err(_) => panic!("the quickstart did not finish within 120 s"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = stdout
        .lines()
        .find(|l| l.starts_with("Authorization: Bearer dev-at-"))
        .unwrap_or_else(|| panic!("a token: {stdout}"));
    assert!(token.len() > "Authorization: Bearer dev-at-".len());
    assert!(
        stdout.contains(r#"{"accessToken":"dev-at-"#),
        "curl's token over HTTP/JSON: {stdout}"
    );
    let listed = stdout
        .lines()
        .find(|l| l.contains(" acme ") && l.contains("ACTIVE"))
        .unwrap_or_else(|| panic!("the connection listed: {stdout}"));
    assert!(listed.contains("CLIENT_CREDENTIALS"));
    for event in ["connection_created", "authorized"] {
        assert!(stdout.contains(event), "{event} in the history: {stdout}");
    }
    let secret = std::fs::read_to_string(dir.path.join("demo.secret")).unwrap();
    assert!(
        !stdout.contains(secret.trim()),
        "the client secret is never printed"
    );
    dir.remove();
}
