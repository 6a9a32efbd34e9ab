//! Certificates for a lab whose engines are also reached over TCP with mutual TLS
//! (`lab up --tls`), the way remote Docker hosts are. Made with the openssl command line,
//! in `<lab>/tls/`: a CA, one server certificate for every host's address, and a client
//! certificate in `tls/client/{ca,cert,key}.pem`, the layout DOCKER_CERT_PATH expects, so
//! `docker --tlsverify -H tcp://ADDRESS:2376` works with it too.

use super::error::LabError;
use super::process::find_binary;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// dockerd's registered port for TLS.
pub const PORT: u16 = 2376;

/// Short-lived: a lab lives for a test run or a demo.
const DAYS: &str = "30";

/// Where a lab's certificates are.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    root: PathBuf,
}

impl TlsPaths {
    pub fn new(lab_dir: &Path) -> Self {
        TlsPaths {
            root: lab_dir.join("tls"),
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.root.join("ca.pem")
    }

    fn ca_key(&self) -> PathBuf {
        self.root.join("ca-key.pem")
    }

    pub fn server_cert(&self) -> PathBuf {
        self.root.join("server.pem")
    }

    pub fn server_key(&self) -> PathBuf {
        self.root.join("server-key.pem")
    }

    /// The client's directory: ca.pem, cert.pem, key.pem.
    pub fn client_dir(&self) -> PathBuf {
        self.root.join("client")
    }

    pub fn client_ca(&self) -> PathBuf {
        self.client_dir().join("ca.pem")
    }

    pub fn client_cert(&self) -> PathBuf {
        self.client_dir().join("cert.pem")
    }

    pub fn client_key(&self) -> PathBuf {
        self.client_dir().join("key.pem")
    }

    /// dockerd's flags for also listening on `address`:2376, taking only clients the lab's
    /// CA signed.
    pub fn dockerd_args(&self, address: &str) -> Vec<OsString> {
        vec![
            "--host".into(),
            format!("tcp://{address}:{PORT}").into(),
            "--tlsverify".into(),
            "--tlscacert".into(),
            self.ca().into(),
            "--tlscert".into(),
            self.server_cert().into(),
            "--tlskey".into(),
            self.server_key().into(),
        ]
    }
}

/// Makes the CA, the server certificate (valid for `addresses`) and the client certificate.
pub fn generate(paths: &TlsPaths, addresses: &[String]) -> Result<(), LabError> {
    if addresses.is_empty() {
        return Err(LabError::Invalid(
            "--tls needs at least one host: its certificate names the hosts' addresses".into(),
        ));
    }
    let openssl = find_binary("openssl", "openssl")?;
    let client = paths.client_dir();
    std::fs::create_dir_all(&client)
        .map_err(|e| LabError::io(format!("create {}", client.display()), e))?;
    let ca = paths.ca();
    run(
        &openssl,
        &format!(
            "req -x509 -nodes {KEY} -days {DAYS} -subj /CN=wheelhouse-lab-ca \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
        &[("-keyout", &paths.ca_key()), ("-out", &ca)],
    )?;
    let sans: Vec<String> = addresses.iter().map(|a| format!("IP:{a}")).collect();
    let server_ext = format!(
        "subjectAltName={}\nextendedKeyUsage=serverAuth\n",
        sans.join(",")
    );
    let server = (paths.server_key(), paths.server_cert());
    sign(&openssl, paths, "server", &server_ext, &server.0, &server.1)?;
    let (key, cert) = (paths.client_key(), paths.client_cert());
    sign(
        &openssl,
        paths,
        "client",
        "extendedKeyUsage=clientAuth\n",
        &key,
        &cert,
    )?;
    std::fs::copy(&ca, paths.client_ca())
        .map_err(|e| LabError::io(format!("copy {} to {}", ca.display(), client.display()), e))?;
    Ok(())
}

/// A new P-256 key: quick to make, and every TLS stack takes it.
const KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";

/// A key and a certificate for `name`, signed by the lab's CA with the extensions `ext`.
fn sign(
    openssl: &Path,
    paths: &TlsPaths,
    name: &str,
    ext: &str,
    key: &Path,
    cert: &Path,
) -> Result<(), LabError> {
    let csr = paths.root.join(format!("{name}.csr"));
    let ext_file = paths.root.join(format!("{name}.ext"));
    std::fs::write(&ext_file, ext)
        .map_err(|e| LabError::io(format!("write {}", ext_file.display()), e))?;
    run(
        openssl,
        &format!("req -new -nodes {KEY} -subj /CN=wheelhouse-lab-{name}"),
        &[("-keyout", key), ("-out", &csr)],
    )?;
    run(
        openssl,
        &format!("x509 -req -days {DAYS} -CAcreateserial"),
        &[
            ("-in", &csr),
            ("-CA", &paths.ca()),
            ("-CAkey", &paths.ca_key()),
            ("-extfile", &ext_file),
            ("-out", cert),
        ],
    )
}

/// Runs openssl with `args` (split at whitespace) and then the file options.
fn run(openssl: &Path, args: &str, files: &[(&str, &Path)]) -> Result<(), LabError> {
    let mut cmd = Command::new(openssl);
    cmd.args(args.split_whitespace());
    for (flag, path) in files {
        cmd.arg(flag).arg(path);
    }
    let what = format!(
        "openssl {}",
        args.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = cmd.output().map_err(|e| LabError::io(what.clone(), e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(LabError::Invalid(format!(
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_without_hosts_has_no_certificate_to_make() {
        let paths = TlsPaths::new(Path::new("/nonexistent/lab"));
        let err = generate(&paths, &[]).expect_err("no hosts");
        assert!(
            err.to_string().contains("--tls needs at least one host"),
            "{err}"
        );
    }
}
