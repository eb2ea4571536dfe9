//! Databases and services named by the environment: `DATABASE_URL` and every `*_DATABASE_URL`,
//! `PG*`, `MYSQL_*`, `REDIS_URL`, `MONGODB_URI`, `VAULT_ADDR`, `NOMAD_ADDR`, `CONSUL_HTTP_ADDR`,
//! `ARGOCD_SERVER`.
//!
//! **Invariant:** a password never leaves [`parse_url`]: only scheme, host(s), port, database
//! and user are kept; everything before the last `@` of the authority is dropped before the
//! host is read, so a password holding `/`, `?` or `@` cannot end up in a host field.

use super::FactKind;
use super::scan::{Scan, details};

/// URL-valued variables that name a database, beyond `DATABASE_URL` and `*_DATABASE_URL`.
const DB_URL_VARS: &[&str] = &[
    "DB_URL",
    "POSTGRES_URL",
    "POSTGRESQL_URL",
    "PG_URL",
    "MYSQL_URL",
    "REDIS_URL",
    "REDIS_TLS_URL",
    "MONGODB_URI",
    "MONGODB_URL",
    "MONGO_URL",
    "MONGO_URI",
    "CLICKHOUSE_URL",
    "ELASTICSEARCH_URL",
];

/// Service address variables (kind `service`).
const SERVICE_VARS: &[&str] = &[
    "VAULT_ADDR",
    "NOMAD_ADDR",
    "CONSUL_HTTP_ADDR",
    "ARGOCD_SERVER",
    "BOUNDARY_ADDR",
    "TFE_ADDRESS",
];

/// A URL's target with the secret parts already removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlTarget {
    pub scheme: String,
    /// Host, or several `h1,h2` (MongoDB replica sets); a unix socket directory for PostgreSQL.
    pub host: String,
    pub port: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    /// Whether a password was present (in the userinfo or a `password=` query parameter).
    pub has_password: bool,
}

/// Whether a variable names a database URL.
pub fn is_db_url_var(name: &str) -> bool {
    name == "DATABASE_URL"
        || name.ends_with("_DATABASE_URL")
        || name.ends_with("_DB_URL")
        || DB_URL_VARS.contains(&name)
}

/// Parses `scheme://[user[:password]@]host[:port][,host2…][/database][?query]` or a libpq
/// `key=value` DSN. `None` if the value is neither.
pub fn parse_url(value: &str) -> Option<UrlTarget> {
    let value = value.trim();
    let Some(i) = value.find("://") else {
        return parse_dsn(value);
    };
    let scheme = value[..i].to_ascii_lowercase();
    let mut rest = &value[i + 3..];
    if let Some(h) = rest.find('#') {
        rest = &rest[..h];
    }
    let mut t = UrlTarget {
        scheme,
        ..UrlTarget::default()
    };
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        rest = &rest[at + 1..];
        match userinfo.split_once(':') {
            Some((user, pass)) => {
                t.user = Some(user.to_string()).filter(|u| !u.is_empty());
                t.has_password = !pass.is_empty();
            }
            None => t.user = Some(userinfo.to_string()).filter(|u| !u.is_empty()),
        }
    }
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, q),
        None => (tail, ""),
    };
    let hosts: Vec<&str> = authority.split(',').filter(|h| !h.is_empty()).collect();
    if hosts.len() == 1 {
        let h = hosts[0];
        // `[::1]:5432` keeps its brackets; `host:port` splits on its one colon.
        if h.starts_with('[') {
            let end = h.find(']').unwrap_or(h.len() - 1);
            t.host = h[..=end].to_string();
            t.port = h[end + 1..].strip_prefix(':').map(str::to_string);
        } else if let Some((host, port)) = h.split_once(':')
            && !port.contains(':')
        {
            t.host = host.to_string();
            t.port = Some(port.to_string()).filter(|p| !p.is_empty());
        } else {
            t.host = h.to_string();
        }
    } else {
        t.host = hosts.join(",");
    }
    t.database = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .map(percent_decode)
        .filter(|d| !d.is_empty());
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k.to_ascii_lowercase().as_str() {
            "host" if t.host.is_empty() => t.host = percent_decode(v),
            "dbname" | "database" if t.database.is_none() => t.database = Some(percent_decode(v)),
            "user" if t.user.is_none() => t.user = Some(percent_decode(v)),
            "password" | "pass" | "pwd" => t.has_password = true,
            _ => {}
        }
    }
    if t.host.is_empty() {
        t.host = "localhost".into();
    }
    t.host = percent_decode(&t.host);
    Some(t)
}

/// libpq `host=db dbname=app user=u password=p`.
fn parse_dsn(value: &str) -> Option<UrlTarget> {
    if !value.contains("host=") && !value.contains("dbname=") {
        return None;
    }
    let mut t = UrlTarget {
        scheme: "postgresql".into(),
        host: "localhost".into(),
        ..UrlTarget::default()
    };
    for pair in value.split_whitespace() {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = v.trim_matches('\'').to_string();
        match k {
            "host" | "hostaddr" => t.host = v,
            "port" => t.port = Some(v),
            "dbname" => t.database = Some(v),
            "user" => t.user = Some(v),
            "password" => t.has_password = true,
            _ => {}
        }
    }
    Some(t)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn emit(s: &mut Scan, kind: FactKind, var: &str, t: &UrlTarget) {
    let verdict = s.classify(
        kind,
        &[
            ("host", &t.host),
            ("database", t.database.as_deref().unwrap_or("")),
            ("user", t.user.as_deref().unwrap_or("")),
        ],
    );
    let d = details([
        ("scheme", Some(t.scheme.as_str())),
        ("port", t.port.as_deref()),
        ("database", t.database.as_deref()),
        ("user", t.user.as_deref()),
    ]);
    s.fact(kind, t.host.clone(), d, format!("env {var}"), verdict);
}

/// Emits database and service facts from the environment.
pub fn probe(s: &mut Scan) {
    let vars: Vec<(String, String)> = s
        .input
        .env
        .iter()
        .filter(|(k, v)| is_db_url_var(k) && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (var, value) in &vars {
        if let Some(t) = parse_url(value) {
            emit(s, FactKind::Database, var, &t);
        }
    }
    if let Some((var, _)) = s.first_var(&["PGHOST", "PGDATABASE", "PGSERVICE"]) {
        let t = UrlTarget {
            scheme: "postgresql".into(),
            host: s.var("PGHOST").unwrap_or("localhost").to_string(),
            port: s.var("PGPORT").map(str::to_string),
            database: s.var("PGDATABASE").map(str::to_string),
            user: s.var("PGUSER").map(str::to_string),
            has_password: false,
        };
        let var = if s.var("PGHOST").is_some() {
            "PGHOST"
        } else {
            var
        };
        emit(s, FactKind::Database, var, &t);
    }
    if s.var("MYSQL_HOST").is_some() {
        let t = UrlTarget {
            scheme: "mysql".into(),
            host: s.var("MYSQL_HOST").unwrap_or("localhost").to_string(),
            port: s.var("MYSQL_TCP_PORT").map(str::to_string),
            database: s.var("MYSQL_DATABASE").map(str::to_string),
            user: s.var("MYSQL_USER").map(str::to_string),
            has_password: false,
        };
        emit(s, FactKind::Database, "MYSQL_HOST", &t);
    }
    for var in SERVICE_VARS {
        let Some(value) = s.var(var).map(str::to_string) else {
            continue;
        };
        let with_scheme = if value.contains("://") {
            value
        } else {
            format!("https://{value}")
        };
        if let Some(mut t) = parse_url(&with_scheme) {
            t.database = None;
            emit(s, FactKind::Service, var, &t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_targets_and_drop_passwords() {
        struct Case {
            url: &'static str,
            host: &'static str,
            port: Option<&'static str>,
            db: Option<&'static str>,
            user: Option<&'static str>,
            pw: bool,
        }
        let cases = [
            Case {
                url: "postgres://app:s3cr3t@db.prod.internal:5432/orders?sslmode=require",
                host: "db.prod.internal",
                port: Some("5432"),
                db: Some("orders"),
                user: Some("app"),
                pw: true,
            },
            Case {
                url: "postgresql://u:pa/ss@w?rd@db.example.com/app",
                host: "db.example.com",
                port: None,
                db: Some("app"),
                user: Some("u"),
                pw: true,
            },
            Case {
                url: "postgres:///app?host=/var/run/postgresql",
                host: "/var/run/postgresql",
                port: None,
                db: Some("app"),
                user: None,
                pw: false,
            },
            Case {
                url: "mongodb://u:p@m1:27017,m2:27017/shop?replicaSet=rs0",
                host: "m1:27017,m2:27017",
                port: None,
                db: Some("shop"),
                user: Some("u"),
                pw: true,
            },
            Case {
                url: "redis://:hunter2@cache.staging:6379/0",
                host: "cache.staging",
                port: Some("6379"),
                db: Some("0"),
                user: None,
                pw: true,
            },
            Case {
                url: "mysql://root@[::1]:3306/test",
                host: "[::1]",
                port: Some("3306"),
                db: Some("test"),
                user: Some("root"),
                pw: false,
            },
            Case {
                url: "postgres://db/app?user=x&password=zzz",
                host: "db",
                port: None,
                db: Some("app"),
                user: Some("x"),
                pw: true,
            },
        ];
        for c in cases {
            let t = parse_url(c.url).unwrap_or_else(|| panic!("{} parses", c.url));
            assert_eq!(t.host, c.host, "{}", c.url);
            assert_eq!(t.port.as_deref(), c.port, "{}", c.url);
            assert_eq!(t.database.as_deref(), c.db, "{}", c.url);
            assert_eq!(t.user.as_deref(), c.user, "{}", c.url);
            assert_eq!(t.has_password, c.pw, "{}", c.url);
            let shown = format!("{t:?}");
            for secret in ["s3cr3t", "pa/ss", "w?rd", "hunter2", "zzz"] {
                assert!(
                    !shown.contains(secret),
                    "{secret} leaked from {}: {shown}",
                    c.url
                );
            }
        }
        let dsn = parse_url("host=pg.prod dbname=ledger user=ro password=topsecret").unwrap();
        assert_eq!(
            (dsn.host.as_str(), dsn.database.as_deref()),
            ("pg.prod", Some("ledger"))
        );
        assert!(dsn.has_password && !format!("{dsn:?}").contains("topsecret"));
        assert_eq!(parse_url("just words"), None);
    }
}
