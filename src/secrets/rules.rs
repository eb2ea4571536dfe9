//! The built-in secret rules: gitleaks-style (id, lowercase keywords for the Aho-Corasick prefilter,
//! a regex, the capture group holding the secret, an optional Shannon-entropy floor).
//!
//! Sources: gitleaks v8.30 `config/gitleaks.toml` (MIT) for the token shapes, detect-secrets for the
//! basic-auth URL shape; see shared/reference/secrets.md (E2). Regexes are Rust `regex` syntax (RE2
//! compatible, no look-around), so a rule never backtracks catastrophically.
//!
//! Invariant: every rule has at least one keyword, and every keyword is lowercase ASCII and occurs in
//! every text the regex can match (case-insensitively), so skipping a rule whose keywords are absent
//! never misses a secret. A keyword should be the rarest literal the regex requires, not just its
//! first letters: one that ordinary text contains makes the rule's regex run on every chunk.

/// One secret rule. `group` is the capture group replaced (0 = the whole match).
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    /// Stable id (gitleaks' where one exists), shown in the replacement `[REDACTED:<id>]`.
    pub id: &'static str,
    /// Lowercase literals; the rule runs only if one of them occurs (ASCII case-insensitive).
    pub keywords: &'static [&'static str],
    /// The pattern.
    pub regex: &'static str,
    /// Capture group that holds the secret itself (0 = whole match).
    pub group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret for it to count, if any.
    pub min_entropy: Option<f64>,
    /// Bytes no match of `regex` can contain, if the rule names them. Then the regex runs only on
    /// the runs between such bytes that contain a keyword, not on the whole text: for rules whose
    /// keywords ordinary output is full of (`key`, `://`) that is most of the scan saved, and the
    /// findings are the same (a match lies inside one run, and the run holds its keyword).
    /// Must be true only for ASCII bytes (so runs end on character boundaries) that are not word
    /// characters (so `\b` at a run's edge sees the same as in the whole text).
    pub barrier: Option<fn(u8) -> bool>,
}

/// The built-in rules, most specific first (an earlier rule wins when two overlap).
pub const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "private-key",
        keywords: &["private key"],
        regex: r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{16,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "aws-access-token",
        keywords: &["akia", "asia", "abia", "acca", "a3t"],
        regex: r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        group: 1,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "aws-secret-access-key",
        keywords: &["secret"],
        regex: r#"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|aws_?secret)["']?\s*(?:=|:|:=|=>)\s*["']?([A-Za-z0-9/+]{40})\b"#,
        group: 1,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "github-fine-grained-pat",
        keywords: &["github_pat_"],
        regex: r"\bgithub_pat_[A-Za-z0-9_]{82}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "github-token",
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        regex: r"\bgh[pousr]_[0-9A-Za-z]{36,251}\b",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "gitlab-token",
        keywords: &[
            "glpat-", "glptt-", "gldt-", "glrt-", "gloas-", "glcbt-", "glsoat-", "glffct-",
            "glimt-", "glagent-",
        ],
        regex: r"\bgl(?:pat|ptt|dt|rt|oas|cbt|soat|ffct|imt|agent)-[0-9A-Za-z_\-]{20,64}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "slack-webhook-url",
        keywords: &["hooks.slack.com"],
        regex: r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "slack-token",
        keywords: &[
            "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xoxo-",
        ],
        regex: r"\bxox[bparseo](?:\.xox[bp])?-[0-9A-Za-z\-]{10,250}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "slack-app-token",
        keywords: &["xapp-"],
        regex: r"(?i)\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "stripe-access-token",
        keywords: &[
            "sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod",
        ],
        regex: r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "anthropic-api-key",
        keywords: &["sk-ant-"],
        regex: r"\bsk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_\-]{20,200}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "openai-api-key",
        keywords: &["sk-proj-", "sk-svcacct-", "sk-admin-", "t3blbkfj"],
        regex: r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "gcp-api-key",
        keywords: &["aiza"],
        regex: r"\bAIza[0-9A-Za-z_\-]{35}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "npm-access-token",
        keywords: &["npm_"],
        regex: r"(?i)\bnpm_[a-z0-9]{36}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "pypi-upload-token",
        keywords: &["pypi-ageichlwas5vcmc"],
        regex: r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "huggingface-token",
        keywords: &["hf_"],
        regex: r"\bhf_[A-Za-z]{34}\b",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "sendgrid-api-token",
        keywords: &["sg."],
        regex: r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "jwt",
        // Not `ey`: that is in "key" and "they", so the regex ran on nearly every chunk of output.
        // Every match has a literal `.ey` (the `\.ey` between header and payload), which ordinary
        // text almost never has.
        keywords: &[".ey"],
        regex: r"\bey[A-Za-z0-9_\-]{17,}\.ey[A-Za-z0-9/\\_\-]{17,}\.(?:[A-Za-z0-9/\\_\-]{10,}={0,2})?",
        group: 0,
        min_entropy: None,
        barrier: None,
    },
    RuleSpec {
        id: "basic-auth-url",
        keywords: &["://"],
        // scheme://user:password@host — only the password is replaced, user and host stay readable.
        regex: r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@\x22'`]+:([^\s/@\x22'`]+)@[^\s/@\x22'`]+",
        group: 1,
        min_entropy: None,
        barrier: Some(basic_auth_barrier),
    },
    RuleSpec {
        id: "generic-secret",
        keywords: &[
            "access",
            "auth",
            "api",
            "credential",
            "creds",
            "key",
            "passwd",
            "password",
            "pwd",
            "secret",
            "token",
        ],
        // `<name containing a keyword> = value`, `name: value`, `"name": "value"`, `name => value`.
        regex: r#"(?i)[\w.\-]*(?:access|auth|api|credential|creds|key|passwd|password|pwd|secret|token)[\w.\-]*["']?\s{0,4}(?:=|:=|:|=>)\s{0,4}["']?([A-Za-z0-9_\-+/=.~!#$%^&*]{10,150})"#,
        group: 1,
        min_entropy: Some(3.5),
        barrier: Some(generic_barrier),
    },
];

/// `basic-auth-url` matches contain no whitespace and no quote: every part of its regex excludes
/// `\s` (Unicode White_Space: of ASCII, tab, LF, VT, FF, CR and space), `"`, `'` and `` ` `` (the
/// scheme's class has none of them either).
fn basic_auth_barrier(b: u8) -> bool {
    matches!(
        b,
        b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | b'"' | b'\'' | b'`'
    )
}

/// `generic-secret` matches are made of `\w`, `\s`, the quotes, `= : >` and the value class
/// `[A-Za-z0-9_\-+/=.~!#$%^&*]`; any other ASCII byte (brackets, `,` `;` `?` `@` `|` `\`, controls)
/// cannot be inside one. Non-ASCII bytes never count (some are `\w`).
fn generic_barrier(b: u8) -> bool {
    b.is_ascii()
        && !(b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'.'
                    | b'-'
                    | b'"'
                    | b'\''
                    | b'='
                    | b':'
                    | b'>'
                    | b'+'
                    | b'/'
                    | b'~'
                    | b'!'
                    | b'#'
                    | b'$'
                    | b'%'
                    | b'^'
                    | b'&'
                    | b'*'
                    | b'\t'
                    | b'\n'
                    | 0x0b
                    | 0x0c
                    | b'\r'
                    | b' '
            ))
}

/// Longest secret (in bytes) a token rule can match as one unit, excluding private-key blocks and
/// JWTs (which the stream redactor handles by holding back unterminated blocks and runs).
pub const MAX_TOKEN_LEN: usize = 512;
