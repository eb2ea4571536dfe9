//! Test corpus: realistic fake secrets of every built-in format, each printed the way an agent or a
//! tool would print it. Shared by the secrets, record and replay tests.

/// A planted secret: the rule expected to catch it, the secret value (which must never reach a
/// recording) and the line that carries it.
pub struct Planted {
    pub rule: &'static str,
    pub secret: String,
    pub line: String,
}

/// Deterministic pseudo-random alphanumerics (xorshift), so the corpus is the same on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn from(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| chars[(self.next() % chars.len() as u64) as usize])
            .collect()
    }
    fn alnum(&mut self, n: usize) -> String {
        self.from(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n,
        )
    }
}

const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// The corpus (≥ 30 secrets, every rule at least once, plus env literals).
pub fn planted() -> Vec<Planted> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    let mut add =
        |rule: &'static str, secret: String, line: String| out.push(Planted { rule, secret, line });
    let upper27 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let s = format!("AKIA{}", g.from(upper27, 16));
    add(
        "aws-access-token",
        s.clone(),
        format!("export AWS_ACCESS_KEY_ID={s}"),
    );
    let s = format!("ASIA{}", g.from(upper27, 16));
    add(
        "aws-access-token",
        s.clone(),
        format!("  \"AccessKeyId\": \"{s}\","),
    );
    let s = g.from(B64, 40);
    add(
        "aws-secret-access-key",
        s.clone(),
        format!("aws_secret_access_key = {s}"),
    );
    let s = g.from(B64, 40);
    add(
        "aws-secret-access-key",
        s.clone(),
        format!("  \"SecretAccessKey\": \"{s}\","),
    );
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let s = format!("{prefix}{}", g.alnum(36));
        add("github-token", s.clone(), format!("token: {s}"));
    }
    let s = format!(
        "github_pat_{}",
        g.from(&format!("{URLSAFE}_"), 82).replace('-', "_")
    );
    add(
        "github-fine-grained-pat",
        s.clone(),
        format!("GH_TOKEN={s} gh pr list"),
    );
    let s = format!("glpat-{}", g.from(URLSAFE, 20));
    add(
        "gitlab-token",
        s.clone(),
        format!("git remote add origin https://oauth2:{s}@gitlab.com/acme/api.git"),
    );
    let s = format!(
        "xoxb-{}-{}-{}",
        g.from("0123456789", 12),
        g.from("0123456789", 13),
        g.alnum(24)
    );
    add("slack-token", s.clone(), format!("SLACK_BOT_TOKEN={s}"));
    let s = format!(
        "xoxp-{}-{}-{}-{}",
        g.from("0123456789", 11),
        g.from("0123456789", 11),
        g.from("0123456789", 12),
        g.alnum(32)
    );
    add("slack-token", s.clone(), format!("slack user token {s}"));
    let s = format!(
        "xapp-1-A{}-{}-{}",
        g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
        g.from("0123456789", 13),
        g.from("abcdef0123456789", 64)
    );
    add(
        "slack-app-token",
        s.clone(),
        format!("SLACK_APP_TOKEN='{s}'"),
    );
    let s = format!(
        "hooks.slack.com/services/T{}/B{}/{}",
        g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
        g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
        g.alnum(24)
    );
    add(
        "slack-webhook-url",
        s.clone(),
        format!("curl -X POST https://{s} -d '{{\"text\":\"deployed\"}}'"),
    );
    let s = format!("sk_live_{}", g.alnum(24));
    add(
        "stripe-access-token",
        s.clone(),
        format!("STRIPE_SECRET_KEY={s}"),
    );
    let s = format!("rk_test_{}", g.alnum(32));
    add(
        "stripe-access-token",
        s.clone(),
        format!("stripe restricted key: {s};"),
    );
    let s = format!("sk-ant-api03-{}AA", g.from(URLSAFE, 93));
    add(
        "anthropic-api-key",
        s.clone(),
        format!("ANTHROPIC_API_KEY={s}"),
    );
    let s = format!("sk-ant-admin01-{}AA", g.from(URLSAFE, 93));
    add("anthropic-api-key", s.clone(), format!("admin key {s}"));
    let s = format!(
        "sk-proj-{}T3BlbkFJ{}",
        g.from(URLSAFE, 74),
        g.from(URLSAFE, 74)
    );
    add(
        "openai-api-key",
        s.clone(),
        format!("OPENAI_API_KEY=\"{s}\""),
    );
    let s = format!("sk-{}T3BlbkFJ{}", g.alnum(20), g.alnum(20));
    add(
        "openai-api-key",
        s.clone(),
        format!("openai.api_key = '{s}'"),
    );
    let s = format!("AIza{}", g.from(URLSAFE, 35));
    add(
        "gcp-api-key",
        s.clone(),
        format!("https://maps.googleapis.com/maps/api/geocode/json?key={s}"),
    );
    let s = format!("npm_{}", g.alnum(36));
    add(
        "npm-access-token",
        s.clone(),
        format!("//registry.npmjs.org/:_authToken={s}"),
    );
    let s = format!("pypi-AgEIcHlwaS5vcmc{}", g.from(URLSAFE, 70));
    add("pypi-upload-token", s.clone(), format!("password = {s}"));
    let s = format!(
        "hf_{}",
        g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
    );
    add("huggingface-token", s.clone(), format!("HF_TOKEN={s}"));
    let s = format!("SG.{}.{}", g.from(URLSAFE, 22), g.from(URLSAFE, 43));
    add(
        "sendgrid-api-token",
        s.clone(),
        format!("SENDGRID_API_KEY={s}"),
    );
    let s = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
        g.from(URLSAFE, 60),
        g.from(URLSAFE, 43)
    );
    add("jwt", s.clone(), format!("Authorization: Bearer {s}"));
    let s = g.alnum(24);
    add(
        "basic-auth-url",
        s.clone(),
        format!("DATABASE_URL=postgres://app_rw:{s}@db.prod.internal:5432/app"),
    );
    let s = g.alnum(18);
    add(
        "basic-auth-url",
        s.clone(),
        format!("cloning https://deploy:{s}@git.example.com/infra.git"),
    );
    let s = format!("{}!{}", g.alnum(12), g.alnum(8));
    add("generic-secret", s.clone(), format!("DB_PASSWORD={s}"));
    let s = g.from(B64, 32);
    add(
        "generic-secret",
        s.clone(),
        format!("  client_secret: \"{s}\""),
    );
    let s = g.alnum(30);
    add(
        "generic-secret",
        s.clone(),
        format!("{{\"api_token\": \"{s}\"}}"),
    );
    let body: Vec<String> = (0..12).map(|_| g.from(B64, 64)).collect();
    let s = body.join("\n");
    add(
        "private-key",
        body[5].clone(),
        format!("-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----"),
    );
    let body: Vec<String> = (0..5).map(|_| g.from(B64, 70)).collect();
    add(
        "private-key",
        body[2].clone(),
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\r\n{}\r\n-----END OPENSSH PRIVATE KEY-----",
            body.join("\r\n")
        ),
    );
    out
}

/// Literal env credential values (no recognisable format): redacted because the env detector
/// reported them, with the lines that print them.
pub fn env_literals() -> Vec<(String, String)> {
    let mut g = Gen(0x1234_5678_9abc_def1);
    (0..3)
        .map(|i| {
            let v = format!("pw{}-{}", g.alnum(6), g.from("abcdef", 5));
            let line = format!("connecting with secret #{i} {v} to the cluster");
            (v, line)
        })
        .collect()
}
