//! kubesim's TLS: a certificate authority and a loopback serving certificate, made afresh at each start.

// Clients send bearer tokens only over HTTPS (client-go drops them on plain HTTP), so kubesim
// serves TLS like a real API server; kubeconfigs carry the CA, so nothing is trusted by hand.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// What a start makes: the CA clients trust (PEM, for kubeconfigs) and the server's TLS settings.
pub struct Tls {
    pub ca_pem: String,
    pub config: Arc<ServerConfig>,
}

/// A CA named "kubesim-ca" and a certificate for `localhost` and `ip` signed by it.
pub fn generate(ip: IpAddr) -> Result<Tls, String> {
    fn err(what: &'static str) -> impl Fn(rcgen::Error) -> String {
        move |e| format!("cannot make the {what}: {e}")
    }
    let ca_key = KeyPair::generate().map_err(err("CA key"))?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err("CA"))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, "kubesim-ca");
    let ca_cert = ca.self_signed(&ca_key).map_err(err("CA certificate"))?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(err("serving key"))?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).map_err(err("serving"))?;
    leaf.subject_alt_names.push(SanType::IpAddress(ip));
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf
        .signed_by(&key, &issuer)
        .map_err(err("serving certificate"))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    // HTTP/1.1 only: watches stream on their own connections, as kube-apiserver's clients expect
    // of either protocol.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    })
}
