//! The CA and serving certificate: generated on first start, kept in the data dir, reused after.

use anyhow::{Context, Result};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::path::Path;
use std::sync::Arc;

/// PEM material of the CA and the serving certificate.
pub struct TlsMaterial {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const SERVING_CERT: &str = "serving.crt";
const SERVING_KEY: &str = "serving.key";

/// Loads the CA and serving certificate from `dir/pki`, creating them on first use.
pub fn load_or_create(dir: &Path) -> Result<TlsMaterial> {
    let pki = dir.join("pki");
    if pki.join(SERVING_KEY).exists() && pki.join(CA_CERT).exists() {
        return Ok(TlsMaterial {
            ca_pem: std::fs::read_to_string(pki.join(CA_CERT))?,
            cert_pem: std::fs::read_to_string(pki.join(SERVING_CERT))?,
            key_pem: std::fs::read_to_string(pki.join(SERVING_KEY))?,
        });
    }
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&pki)
            .with_context(|| format!("creating {}", pki.display()))?;
    }
    let m = generate()?;
    let ca_key_pem = m.1;
    let m = m.0;
    // Every file of the data dir is private to its user (0600), certificates included.
    write_private(&pki.join(CA_KEY), &ca_key_pem)?;
    write_private(&pki.join(CA_CERT), &m.ca_pem)?;
    write_private(&pki.join(SERVING_CERT), &m.cert_pem)?;
    // The key goes last: its presence marks the set complete (see the check above).
    write_private(&pki.join(SERVING_KEY), &m.key_pem)?;
    Ok(m)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn validity(params: &mut CertificateParams) {
    let year = jiff::Zoned::now().year() as i32;
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + 10, 1, 1);
}

/// Generates a CA (ECDSA P-256) and a serving certificate for localhost, 127.0.0.1 and ::1.
/// Returns the material and the CA key PEM.
pub fn generate() -> Result<(TlsMaterial, String)> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "twinstack-ca");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "twinstack");
    ca_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    validity(&mut ca_params);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params
        .subject_alt_names
        .push(SanType::IpAddress("::1".parse().unwrap()));
    params
        .distinguished_name
        .push(DnType::CommonName, "twinstack");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((
        TlsMaterial {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        },
        ca_key_pem,
    ))
}

/// A rustls server configuration offering HTTP/2 and HTTP/1.1, as client-go expects.
pub fn server_config(m: &TlsMaterial) -> Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<_> =
        rustls_pemfile::certs(&mut m.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
    let key = rustls_pemfile::private_key(&mut m.key_pem.as_bytes())?
        .context("no private key in serving.key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
