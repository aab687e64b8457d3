//! The stack to copy (issue 41): `deploy/compose.yml` (a dev profile that needs nothing set, a
//! production profile that needs its secrets, tracing), the Dockerfile, and
//! `deploy/kubernetes.yaml`. No Docker engine or cluster runs here: the files are parsed, every
//! healthcheck's tool is checked against what its pinned image ships, and every `LATCHKEY_*`
//! variable they set is given to the binary, which must accept it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the compose file gets wrong, if anything: a healthcheck whose tool its image does not
/// ship (per `compose_images.toml` and the Dockerfile), an image not in the list, OTEL settings on
/// a service outside the tracing profile.
fn compose_problems(
    compose: &serde_norway::Value,
    images: &toml::Value,
    dockerfile: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut built: Vec<String> = images["build"]["tools"]
        .as_array()
        .expect("[build] tools")
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    // The last stage's `apt-get install` packages, each a tool of the same name.
    let last_stage = dockerfile.rsplit("\nFROM ").next().unwrap_or(dockerfile);
    for line in last_stage.split("&&") {
        if let Some(rest) = line.trim().strip_prefix("apt-get install") {
            built.extend(
                rest.split_whitespace()
                    .filter(|w| !w.starts_with('-') && *w != "\\")
                    .map(str::to_owned),
            );
        }
    }
    let services = compose["services"].as_mapping().expect("services");
    for (name, service) in services {
        let name = name.as_str().unwrap_or("?");
        let tools: Vec<String> = match (service["image"].as_str(), service.get("build")) {
            (Some(image), _) => match images["images"].get(image) {
                Some(entry) => entry["tools"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                None => {
                    problems.push(format!(
                        "{name}: image {image} is not in compose_images.toml"
                    ));
                    continue;
                }
            },
            (None, Some(_)) => built.clone(),
            (None, None) => {
                problems.push(format!("{name}: neither image nor build"));
                continue;
            }
        };
        if let Some(test) = service["healthcheck"]["test"].as_sequence() {
            let words: Vec<&str> = test.iter().filter_map(|w| w.as_str()).collect();
            let needed: Vec<&str> = match words.as_slice() {
                ["CMD", tool, ..] => vec![tool],
                ["CMD-SHELL", command, ..] => {
                    vec!["sh", command.split_whitespace().next().unwrap_or("")]
                }
                ["NONE", ..] => vec![],
                other => {
                    problems.push(format!(
                        "{name}: healthcheck {other:?} is not CMD or CMD-SHELL"
                    ));
                    vec![]
                }
            };
            for tool in needed {
                if !tools.iter().any(|t| t == tool) {
                    problems.push(format!(
                        "{name}: healthcheck runs {tool}, which its image lacks"
                    ));
                }
            }
        }
        let traced = service["environment"].as_mapping().is_some_and(|env| {
            env.keys()
                .any(|k| k.as_str().is_some_and(|k| k.starts_with("OTEL_")))
        });
        let in_tracing = service["profiles"]
            .as_sequence()
            .is_some_and(|p| p.iter().any(|p| p.as_str() == Some("tracing")));
        if traced && !in_tracing {
            problems.push(format!("{name}: OTEL settings outside the tracing profile"));
        }
    }
    problems
}

/// `${VAR:-default}` as compose gives it with nothing exported: the default.
fn interpolated(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .expect("closing brace");
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map(|(_, d)| d).unwrap_or(""));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A service's `LATCHKEY_*` environment as compose gives it with nothing exported.
fn latchkey_env(service: &serde_norway::Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_mapping()
        .expect("environment")
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .filter(|(k, _)| k.starts_with("LATCHKEY_"))
        .map(|(k, v)| (k, interpolated(&v)))
        .collect()
}

fn profiles(service: &serde_norway::Value) -> Vec<String> {
    service["profiles"]
        .as_sequence()
        .map(|p| {
            p.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn load_compose() -> (serde_norway::Value, toml::Value, String) {
    let text = std::fs::read_to_string(root().join("deploy/compose.yml")).unwrap();
    let compose: serde_norway::Value =
        serde_norway::from_str(&text).expect("deploy/compose.yml parses");
    let images: toml::Value = toml::from_str(
        &std::fs::read_to_string(root().join("tests/blackbox/compose_images.toml")).unwrap(),
    )
    .unwrap();
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    (compose, images, dockerfile)
}

#[tokio::test]
async fn the_compose_stack_would_start_its_healthchecks_exist_and_images_are_pinned() {
    let (compose, images, dockerfile) = load_compose();
    assert_eq!(
        compose_problems(&compose, &images, &dockerfile),
        Vec::<String>::new()
    );
    let services = compose["services"].as_mapping().expect("services");
    // An exact release: `name:1.2.3` or `name:1.2.3-variant` (Postgres numbers its releases
    // major.minor: `16.10`), never `postgres:16`, `nats:2.12` or `latest`.
    let pinned = |image: &str| {
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        let version = tag.split('-').next().unwrap_or("");
        let parts: Vec<&str> = version.split('.').collect();
        let release = if image.starts_with("postgres:") { 2 } else { 3 };
        parts.len() == release && parts.iter().all(|p| p.parse::<u32>().is_ok())
    };
    assert!(!pinned("postgres:16") && !pinned("nats:2.12-alpine") && !pinned("nats:latest"));
    assert!(pinned("nats:2.12.8-alpine") && pinned("postgres:16.10-bookworm"));
    for (name, service) in services {
        if let Some(image) = service["image"].as_str() {
            assert!(pinned(image), "{name:?}: {image} is not an exact version");
        }
    }
    for (name, profile) in [
        ("postgres-dev", "services"),
        ("nats-dev", "services"),
        ("jaeger", "tracing"),
        ("latchkey-traced", "tracing"),
        ("latchkey-dev", "dev"),
        ("keygen", "dev"),
        ("latchkey", "prod"),
    ] {
        assert!(
            profiles(&compose["services"][name]).contains(&profile.to_owned()),
            "{name} is in the {profile} profile"
        );
    }
    // Every Latchkey asks readiness on the admin listener, not the public /healthz.
    for name in ["latchkey", "latchkey-dev", "latchkey-traced"] {
        let test = &compose["services"][name]["healthcheck"]["test"];
        assert_eq!(
            test[3].as_str(),
            Some("http://127.0.0.1:9090/readyz"),
            "{name}"
        );
        assert_eq!(
            latchkey_env(&compose["services"][name])["LATCHKEY_ADMIN_ADDR"],
            "0.0.0.0:9090"
        );
    }
    assert!(dockerfile.contains("/readyz") && dockerfile.contains("HEALTHCHECK"));
    assert!(
        dockerfile.contains("cargo chef cook"),
        "dependencies in their own layer"
    );
    assert!(dockerfile.contains("USER 10001"), "not root");
    assert!(dockerfile.contains("org.opencontainers.image.source"));

    // The checks fail where a file would be wrong: wget in the scratch-based nats image, the
    // OTLP endpoint on a service outside the tracing profile, curl missing from the image.
    let mut broken = compose.clone();
    broken["services"]["nats"]["image"] = "nats:2.12.8".into();
    let mut images_with_scratch_nats = images.clone();
    images_with_scratch_nats["images"]
        .as_table_mut()
        .unwrap()
        .insert(
            "nats:2.12.8".to_owned(),
            toml::Value::Table(toml::toml! { tools = ["nats-server"] }),
        );
    assert_eq!(
        compose_problems(&broken, &images_with_scratch_nats, &dockerfile),
        ["nats: healthcheck runs wget, which its image lacks"]
    );
    let mut broken = compose.clone();
    broken["services"]["latchkey-dev"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] =
        "http://jaeger:4317".into();
    assert_eq!(
        compose_problems(&broken, &images, &dockerfile),
        ["latchkey-dev: OTEL settings outside the tracing profile"]
    );
    let without_curl = dockerfile.replace(" curl", "");
    assert_eq!(
        compose_problems(&compose, &images, &without_curl).len(),
        3,
        "each Latchkey's healthcheck needs curl"
    );

    let help = command(&["serve", "--help"], &[], &std::env::temp_dir())
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for service in ["latchkey", "latchkey-dev", "latchkey-traced"] {
        let env = latchkey_env(&compose["services"][service]);
        for key in env.keys() {
            // LATCHKEY_MASTER_KEY is read from the environment only (so it never shows in `ps`).
            assert!(
                help.contains(key.as_str()) || key == "LATCHKEY_MASTER_KEY",
                "{service}: {key} is not a setting of `latchkey serve`"
            );
        }
        assert!(env.len() >= 8, "{service}: {env:?}");
    }
}

/// The settings a compose service gives, with its database and NATS on this machine instead of
/// compose's hosts, and listeners on port 0.
fn here(env: &BTreeMap<String, String>, db: &str) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| match k.as_str() {
            "LATCHKEY_DATABASE_URL" => (k.clone(), db.to_owned()),
            "LATCHKEY_GRPC_ADDR" | "LATCHKEY_HTTP_ADDR" | "LATCHKEY_ADMIN_ADDR" => {
                (k.clone(), "127.0.0.1:0".to_owned())
            }
            _ => (k.clone(), v.clone()),
        })
        .filter(|(k, _)| k != "LATCHKEY_NATS_URL")
        .collect()
}

#[tokio::test]
async fn the_dev_profile_needs_nothing_set_and_the_production_one_refuses_to_start_without_its_key()
{
    let (compose, _, _) = load_compose();
    let services = compose["services"].as_mapping().unwrap();
    // What `--profile dev` starts: the services of no profile and those of `dev`. None reads a
    // variable from the caller's environment.
    for (name, service) in services {
        let p = profiles(service);
        if p.is_empty() || p.iter().any(|p| p == "dev") {
            let text = serde_norway::to_string(service).unwrap();
            assert!(
                !text.contains("${"),
                "{name:?} needs a variable set: {text}"
            );
        }
    }
    let dev = latchkey_env(&compose["services"]["latchkey-dev"]);
    let origins = &dev["LATCHKEY_RETURN_URL_ORIGINS"];
    assert!(origins.contains("http://localhost:"), "{origins}");
    // The key file the server reads is the one keygen writes, on the same volume.
    let key_file = &dev["LATCHKEY_MASTER_KEY_FILE"];
    let keygen = serde_norway::to_string(&compose["services"]["keygen"]).unwrap();
    assert!(keygen.contains(key_file.as_str()) && keygen.contains("keys generate"));
    assert!(
        keygen.contains("umask 077"),
        "the key file is the owner's alone"
    );

    // The dev service's settings start a server (with its key file where keygen would put it).
    let mode = crate::helpers::Mode::postgres().await;
    let crate::helpers::Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let dir = latchkey_store::testing::TempDir::create();
    let key_path = dir.path.join("master.key");
    let generated = command(&["keys", "generate"], &[], &dir.path)
        .output()
        .await
        .unwrap();
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_path)
            .unwrap();
        file.write_all(&generated.stdout).unwrap();
    }
    let mut env = here(&dev, &db.url);
    env.retain(|(k, _)| k != "LATCHKEY_MASTER_KEY_FILE");
    env.push((
        "LATCHKEY_MASTER_KEY_FILE".to_owned(),
        key_path.display().to_string(),
    ));
    let mut server = command(&["serve"], &env, &dir.path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the dev service starts")
        .unwrap();
    assert!(
        first
            .as_deref()
            .is_some_and(|l| l.starts_with("latchkey ready")),
        "{first:?}"
    );
    server.kill().await.unwrap();

    // The production service with nothing exported: refused, naming the setting.
    let prod = latchkey_env(&compose["services"]["latchkey"]);
    assert_eq!(prod["LATCHKEY_MASTER_KEY"], "");
    let output = command(&["serve"], &here(&prod, &db.url), &dir.path)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("LATCHKEY_MASTER_KEY"), "{stderr}");
    dir.remove();
    mode.cleanup().await;
}

#[tokio::test]
async fn the_kubernetes_example_probes_liveness_and_readiness_and_takes_its_secrets_from_a_secret()
{
    let text = std::fs::read_to_string(root().join("deploy/kubernetes.yaml")).unwrap();
    let documents: Vec<serde_norway::Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("a YAML document"))
        .collect();
    let kind = |k: &str| {
        documents
            .iter()
            .find(|d| d["kind"].as_str() == Some(k))
            .unwrap_or_else(|| panic!("a {k}"))
    };
    let deployment = kind("Deployment");
    assert_eq!(deployment["apiVersion"].as_str(), Some("apps/v1"));
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    let image = container["image"].as_str().unwrap();
    assert!(
        !image.ends_with(":latest") && image.contains(':'),
        "a pinned image: {image}"
    );
    let ports: BTreeMap<String, u64> = container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["containerPort"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut env = BTreeMap::new();
    let mut from_secret = Vec::new();
    for var in container["env"].as_sequence().unwrap() {
        let name = var["name"].as_str().unwrap().to_owned();
        if let Some(value) = var["value"].as_str() {
            env.insert(name, value.to_owned());
        } else {
            let secret = &var["valueFrom"]["secretKeyRef"];
            assert!(secret["name"].as_str().is_some() && secret["key"].as_str().is_some());
            from_secret.push(name);
        }
    }
    from_secret.sort();
    assert_eq!(
        from_secret,
        ["LATCHKEY_DATABASE_URL", "LATCHKEY_MASTER_KEY"]
    );
    // The probes ask the admin listener, on the port the service binds it to.
    let admin_port: u64 = env["LATCHKEY_ADMIN_ADDR"]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for (probe, path) in [
        ("livenessProbe", "/livez"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/livez"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        let port = get["port"]
            .as_str()
            .map_or_else(|| get["port"].as_u64().unwrap(), |name| ports[name]);
        assert_eq!(port, admin_port, "{probe} asks the admin listener");
    }
    for (setting, port) in [
        ("LATCHKEY_GRPC_ADDR", "grpc"),
        ("LATCHKEY_HTTP_ADDR", "http"),
    ] {
        assert!(
            env[setting].ends_with(&format!(":{}", ports[port])),
            "{setting}"
        );
    }
    let help = command(&["serve", "--help"], &[], &std::env::temp_dir())
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for key in env.keys().chain(from_secret.iter()) {
        assert!(
            help.contains(key.as_str()) || key == "LATCHKEY_MASTER_KEY",
            "{key} is not a setting of `latchkey serve`"
        );
    }
    let service = kind("Service");
    assert_eq!(&service["spec"]["selector"], labels);
    for port in service["spec"]["ports"].as_sequence().unwrap() {
        let target = port["targetPort"].as_str().unwrap();
        assert!(ports.contains_key(target), "the Service targets {target}");
        assert_ne!(target, "admin", "the admin listener stays off the Service");
    }
    let budget = kind("PodDisruptionBudget");
    assert_eq!(budget["apiVersion"].as_str(), Some("policy/v1"));
    assert_eq!(&budget["spec"]["selector"]["matchLabels"], labels);
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
}
