//! Test support: fresh SQLite files and fresh PostgreSQL databases, and a router over them.
#![allow(dead_code)]

pub mod ops;

use std::sync::atomic::{AtomicUsize, Ordering};

use server::config::{Cli, Config};
use server::store::Db;

/// Where the tests find PostgreSQL; each test gets its own database on it.
pub fn postgres_admin_url() -> String {
    std::env::var("PORTOLAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A migrated database that lives as long as the value.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("portolan.db").display());
    let db = Db::connect(&url).await.expect("open sqlite");
    db.migrate().await.expect("migrate sqlite");
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A new, empty, migrated PostgreSQL database. Its name carries this process's id, so databases
/// left behind by finished test runs are dropped here and runs never see each other's data.
pub async fn postgres() -> TestDb {
    let t = postgres_unmigrated().await;
    t.db.migrate().await.expect("migrate postgres");
    t
}

/// A new SQLite file with no tables yet.
pub async fn sqlite_unmigrated() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("portolan.db").display());
    let db = Db::connect(&url).await.expect("open sqlite");
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

/// A new PostgreSQL database with no tables yet (named as `postgres()` names them).
pub async fn postgres_unmigrated() -> TestDb {
    let admin_url = postgres_admin_url();
    let admin = Db::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is needed for these tests ({admin_url}): {e}"));
    let Db::Postgres(admin_pool) = &admin else {
        panic!("PORTOLAN_TEST_POSTGRES_URL must be a postgres:// URL")
    };
    sweep_stale_databases(admin_pool).await;
    let pid = std::process::id();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let name = format!("portolan_t_{pid}_{n}");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin_pool)
        .await
        .expect("create test database");
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).expect("admin url");
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    let db = Db::connect(&url).await.expect("open postgres");
    TestDb {
        db,
        url,
        _dir: None,
    }
}

async fn sweep_stale_databases(admin: &sqlx::PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'portolan_t_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

/// The configuration `portolan` would get from these flags.
pub fn config(args: &[&str]) -> Config {
    let mut all = vec!["portolan"];
    all.extend_from_slice(args);
    <Cli as clap::Parser>::try_parse_from(all)
        .expect("valid flags")
        .config
}

/// The full application router over `db`, as `portolan serve` builds it.
pub fn router(db: &Db) -> axum::Router {
    let config = config(&[]);
    let addr = "127.0.0.1:3000".parse().expect("addr");
    server::http::router(server::app_state(&config, db.clone(), addr).expect("valid configuration"))
}

/// The router `portolan serve` would build from `flags`, listening on `listen`.
pub fn router_with(db: &Db, flags: &[&str], listen: &str) -> axum::Router {
    let addr = listen.parse().expect("a socket address");
    server::http::router(
        server::app_state(&config(flags), db.clone(), addr).expect("valid configuration"),
    )
}

/// Flags for a portal with an identity provider nobody answers for (nothing here reaches it).
pub const UNREACHABLE_IDP: &[&str] = &[
    "--oidc-issuer",
    "https://idp.invalid",
    "--oidc-client-id",
    "portolan",
];

/// Generates one test per database backend from an `async fn(&Db)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let t = $crate::support::sqlite().await;
                    super::$check(&t.db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    let t = $crate::support::postgres().await;
                    super::$check(&t.db).await;
                    t.db.close().await;
                }
            )+
        }
    };
}

/// A minimal HTTP/1.1 GET over a fresh connection: status and body.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {raw:.80}")))?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Signs in through the development sign-in (`admin`, `operator` or `viewer`) and returns the
/// session cookie (`name=value`) to send with later requests.
pub async fn dev_session(db: &Db, identity: &str) -> String {
    use tower::ServiceExt;
    let req = http::Request::post("/auth/dev")
        .header(http::header::ORIGIN, "http://127.0.0.1:3000")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(axum::body::Body::from(format!("identity={identity}")))
        .expect("request");
    let res = router(db).oneshot(req).await.expect("response");
    assert_eq!(
        res.status(),
        http::StatusCode::SEE_OTHER,
        "signed in as {identity}"
    );
    res.headers()
        .get(http::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// A session for `who` straight in the store (someone no development identity stands for, e.g.
/// without any role), and the cookie (`name=value`) that presents it.
pub async fn session_for(db: &Db, who: app::access::model::Principal) -> String {
    let store = std::sync::Arc::new(server::auth::store::PortalSessionStore::new(db));
    let session = tower_sessions::Session::new(
        None,
        store,
        Some(tower_sessions::Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::HOUR,
        )),
    );
    server::auth::sign_in(&session, who)
        .await
        .expect("signed in");
    session.save().await.expect("stored");
    let id = session.id().expect("an id once stored");
    format!("{}={id}", server::auth::COOKIE)
}

/// What the router answered to `req`: status, headers, and the body as text.
pub async fn send(
    app: &axum::Router,
    req: http::Request<axum::body::Body>,
) -> (http::StatusCode, http::HeaderMap, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = app.clone().oneshot(req).await.expect("the router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The number of rows in `table` (a name written in the test, never input).
pub async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
    }
    .expect("count")
}

/// This package's folder as `cargo test` names it when the tests run. The compile-time value can
/// name another clone's folder: clones sharing one target directory reuse each other's binaries.
pub fn package_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A GET request for `path`, optionally with a session cookie.
pub fn get(path: &str, cookie: Option<&str>) -> http::Request<axum::body::Body> {
    let mut req = http::Request::get(path);
    if let Some(cookie) = cookie {
        req = req.header(http::header::COOKIE, cookie);
    }
    req.body(axum::body::Body::empty()).expect("request")
}

/// The official Cluster API CRDs (`../shared/capi-crds`, or `PORTOLAN_CAPI_CRDS`).
pub fn capi_crds() -> std::path::PathBuf {
    let dir = std::env::var_os("PORTOLAN_CAPI_CRDS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| package_dir().join("../../shared/capi-crds"));
    assert!(
        dir.join("cluster.x-k8s.io_clusters.yaml").is_file(),
        "the official Cluster API CRDs are not at {} (set PORTOLAN_CAPI_CRDS to their folder)",
        dir.display()
    );
    dir
}

/// A fresh kubesim with the demo fleet (simulated time `speed` times real time) and a kube-rs
/// client for it as the management cluster; keep the `Sim` alive while the client is used.
pub async fn kubesim_demo(speed: f64) -> (kubesim::Sim, server::fleet::Management) {
    kubesim_with(kubesim::SimOptions {
        demo: true,
        speed,
        ..kubesim::SimOptions::default()
    })
    .await
}

/// A fresh kubesim started with `options`, and a kube-rs client for it as the management cluster.
pub async fn kubesim_with(
    options: kubesim::SimOptions,
) -> (kubesim::Sim, server::fleet::Management) {
    let sim = kubesim::Sim::start(options).await.expect("kubesim");
    let management = server::fleet::Management::from_yaml(sim.kubeconfig(), "test kubesim")
        .await
        .expect("management client");
    (sim, management)
}

/// The portal over `db` (with `flags`) and a fresh kubesim (demo fleet) as its management
/// cluster; keep the `Sim` alive as long as the router is used.
pub async fn portal_with_kubesim(db: &Db, flags: &[&str]) -> (axum::Router, kubesim::Sim) {
    let (sim, management) = kubesim_demo(kubesim::SimOptions::default().speed).await;
    let state = server::app_state_with(
        &config(flags),
        db.clone(),
        "127.0.0.1:3000".parse().expect("addr"),
        Some(std::sync::Arc::new(management)),
    )
    .expect("valid configuration");
    (server::http::router(state), sim)
}

/// The portal over `db` (with `flags`) and a fresh demo kubesim running `speed` times real time,
/// with a management client for the test's own calls; keep the `Sim` alive while either is used.
pub async fn portal_at_speed(
    db: &Db,
    flags: &[&str],
    speed: f64,
) -> (axum::Router, kubesim::Sim, server::fleet::Management) {
    portal_on(
        db,
        flags,
        kubesim::SimOptions {
            demo: true,
            speed,
            ..kubesim::SimOptions::default()
        },
    )
    .await
}

/// The portal over `db` (with `flags`) and a fresh kubesim started with `options`, with a
/// management client for the test's own calls; keep the `Sim` alive while either is used.
pub async fn portal_on(
    db: &Db,
    flags: &[&str],
    options: kubesim::SimOptions,
) -> (axum::Router, kubesim::Sim, server::fleet::Management) {
    let (sim, management) = kubesim_with(options).await;
    let state = server::app_state_with(
        &config(flags),
        db.clone(),
        "127.0.0.1:3000".parse().expect("addr"),
        Some(std::sync::Arc::new(management.clone())),
    )
    .expect("valid configuration");
    (server::http::router(state), sim, management)
}

/// A server function called as the browser calls it (same origin, JSON answer), as the session
/// in `cookie`: a GET, or a form POST when `form` is given. The answer's status and JSON body
/// (`null` when it is not JSON).
pub async fn call(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    form: Option<&str>,
) -> (http::StatusCode, serde_json::Value) {
    use http::header;
    let req = match form {
        Some(body) => http::Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body.to_string())),
        None => http::Request::get(path).body(axum::body::Body::empty()),
    };
    let mut req = req.expect("request");
    let h = req.headers_mut();
    h.insert(header::COOKIE, cookie.parse().expect("cookie"));
    h.insert(
        header::ORIGIN,
        "http://127.0.0.1:3000".parse().expect("origin"),
    );
    h.insert(header::ACCEPT, "application/json".parse().expect("accept"));
    let (status, _, body) = send(app, req).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// The response of the portal over `db` (no management cluster) to `req`.
pub async fn response(db: &Db, req: http::Request<axum::body::Body>) -> axum::response::Response {
    use tower::ServiceExt;
    router(db).oneshot(req).await.expect("router is infallible")
}

/// A response's body as text.
pub async fn text(res: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// Polls `check` every 100 ms until it finds something, for at most `secs` seconds.
pub async fn until<T>(what: &str, secs: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within {secs} s");
}

/// A client for a workload cluster, made from its kubeconfig Secret as the portal makes it.
pub async fn workload_client(management: &server::fleet::Management, name: &str) -> kube::Client {
    use k8s_openapi::api::core::v1::Secret;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(management.client(), "default");
    let secret = secrets
        .get(&format!("{name}-kubeconfig"))
        .await
        .expect("the kubeconfig Secret");
    let value = secret.data.expect("data")["value"].0.clone();
    server::fleet::workloads::client_from_kubeconfig(
        &app::access::model::ClusterRef::new("default", name),
        &value,
    )
    .expect("a client")
}
