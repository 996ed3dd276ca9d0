//! Kubeconfig files pointing at kubesim (the management cluster or one workload cluster).

/// A kubeconfig with one cluster, user and context, authenticating with a bearer token over TLS
/// (the server's CA, PEM, embedded).
pub fn render(server: &str, context: &str, token: &str, ca_pem: &str) -> String {
    // Quoted YAML scalars: names and URLs cannot break out of their fields.
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {c}\n  cluster:\n    server: {server}\n\
         \x20   certificate-authority-data: {ca}\n\
         contexts:\n- name: {c}\n  context:\n    cluster: {c}\n    user: {u}\n    namespace: default\n\
         current-context: {c}\nusers:\n- name: {u}\n  user:\n    token: {token}\npreferences: {{}}\n",
        c = q(context),
        u = q(&format!("{context}-admin")),
        server = q(server),
        ca = q(&base64(ca_pem.as_bytes())),
        token = q(token),
    )
}

/// Standard base64 (Secret `data` values).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn kubeconfig_is_valid_yaml_with_the_token() {
        let text = render("https://127.0.0.1:1", "kubesim", "t0k", "PEM");
        let v: serde_json::Value = serde_yaml::from_str(&text).expect("yaml");
        assert_eq!(v["users"][0]["user"]["token"], "t0k");
        assert_eq!(v["clusters"][0]["cluster"]["server"], "https://127.0.0.1:1");
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            "UEVN"
        );
    }
}
