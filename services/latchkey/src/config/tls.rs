//! The gRPC listener's certificate files.

use std::path::PathBuf;

/// Certificate files of the gRPC listener.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// Both of certificate and key, or neither; a client CA only with them; every file readable.
pub(super) fn resolve(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
    errors: &mut Vec<String>,
) -> Option<TlsFiles> {
    for (path, name) in [
        (&cert, "LATCHKEY_TLS_CERT (--tls-cert)"),
        (&key, "LATCHKEY_TLS_KEY (--tls-key)"),
        (&client_ca, "LATCHKEY_TLS_CLIENT_CA (--tls-client-ca)"),
    ] {
        if let Some(path) = path
            && !path.is_file()
        {
            errors.push(format!("{name}: {} is not a readable file", path.display()));
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert,
            key,
            client_ca,
        }),
        (None, None) => {
            if client_ca.is_some() {
                errors.push(
                    "LATCHKEY_TLS_CLIENT_CA needs LATCHKEY_TLS_CERT and LATCHKEY_TLS_KEY"
                        .to_owned(),
                );
            }
            None
        }
        _ => {
            errors.push("LATCHKEY_TLS_CERT and LATCHKEY_TLS_KEY: set both, or neither".to_owned());
            None
        }
    }
}
