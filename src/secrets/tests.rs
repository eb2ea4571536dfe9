//! Redactor tests: every planted format is caught, ordinary output is left alone, streaming over
//! arbitrary read boundaries gives the same result as one-shot redaction.

use std::sync::Arc;

use proptest::prelude::*;

use super::env::credential_values;
use super::planted::{env_literals, planted};
use super::rules::RULES;
use super::*;

fn redactor() -> Redactor {
    let literals: Vec<String> = env_literals().into_iter().map(|(v, _)| v).collect();
    Redactor::new(&literals).expect("built-in rules compile")
}

#[test]
fn every_builtin_rule_compiles_and_has_lowercase_keywords() {
    Redactor::builtin().expect("compiles");
    for rule in RULES {
        assert!(!rule.keywords.is_empty(), "{} has no keyword", rule.id);
        for k in rule.keywords {
            assert_eq!(*k, k.to_ascii_lowercase(), "{} keyword {k}", rule.id);
        }
    }
}

#[test]
fn every_planted_secret_is_redacted_by_its_rule() {
    let r = redactor();
    let corpus = planted();
    assert!(corpus.len() >= 30, "corpus has {}", corpus.len());
    for p in &corpus {
        let out = r.redact(&p.line);
        assert!(!out.contains(&p.secret), "{} leaked in {out}", p.rule);
        let tag = replacement(p.rule);
        let rules: Vec<&str> = r.find(&p.line).iter().map(|f| f.rule).collect();
        assert!(
            out.contains(&tag) || rules.contains(&p.rule),
            "{} not attributed: {rules:?} in {out}",
            p.rule
        );
    }
    for (value, line) in env_literals() {
        let out = r.redact(&line);
        assert!(!out.contains(&value));
        assert!(out.contains("[REDACTED:env-credential]"), "{out}");
    }
}

/// The prefilter is sound on the corpus: every match of every rule's regex (run unfiltered)
/// contains one of that rule's keywords, so skipping rules without a keyword hit loses nothing.
#[test]
fn every_match_of_a_rule_contains_one_of_its_keywords() {
    let mut lines: Vec<String> = planted().into_iter().map(|p| p.line).collect();
    lines.push(jwt_in_prose());
    for rule in RULES {
        let regex = regex::Regex::new(rule.regex).expect("compiles");
        for line in &lines {
            for m in regex.find_iter(line) {
                let found = m.as_str().to_ascii_lowercase();
                assert!(
                    rule.keywords.iter().any(|k| found.contains(k)),
                    "{} matched {:?} without a keyword",
                    rule.id,
                    m.as_str()
                );
            }
        }
    }
}

/// A JWT among words that contain `ey` ("they", "key", "eyes"), which is what the old `ey`
/// keyword fired on.
fn jwt_in_prose() -> String {
    "they said the key was eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.\
     dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U -- keep your eyes open"
        .to_owned()
}

/// The JWT keyword is `.ey` (not `ey`): a token is still caught one-shot, and when the reads
/// split it anywhere, including inside the `.ey` itself.
#[test]
fn jwt_is_caught_by_its_dot_ey_keyword_whole_and_split() {
    let r = Arc::new(Redactor::builtin().expect("builtin"));
    let text = format!("{}\r\n", jwt_in_prose());
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ";
    let out = r.redact(&text);
    assert!(out.contains("[REDACTED:jwt]"), "{out}");
    assert!(!out.contains(token), "{out}");
    let dot = text.find(".eyJzdWIi").expect("payload");
    for cut in [dot, dot + 1, dot + 2, dot + 3, dot + 30] {
        let out = stream(&r, &text, &[cut]);
        assert!(
            !out.contains("eyJzdWIi"),
            "leaked when split at {cut}: {out}"
        );
        assert!(out.contains("[REDACTED:jwt]"), "split at {cut}: {out}");
    }
}

#[test]
fn basic_auth_keeps_user_and_host() {
    let r = redactor();
    let out = r.redact("postgres://app_rw:Zx81kQwe77pLmnb2@db.prod.internal:5432/app");
    assert_eq!(
        out,
        "postgres://app_rw:[REDACTED:basic-auth-url]@db.prod.internal:5432/app"
    );
}

#[test]
fn ordinary_output_is_untouched() {
    let r = redactor();
    for text in [
        "Compiling overwatch v0.1.0 (/work/main)",
        "let key = map.get(&id);",
        "password: ********",
        "token = read_token()?;",
        "the monkey ate 3 keys; they were eyeing them",
        "https://github.com/acme/api/pull/42",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----",
        "\u{1b}[1;32m✓\u{1b}[0m 12 tests passed — naïve café",
    ] {
        assert_eq!(r.redact(text), text, "changed {text:?}");
    }
}

#[test]
fn redact_json_keeps_json_valid_and_hides_nested_secrets() {
    let r = redactor();
    let secret = &planted()[5].secret;
    let mut value = serde_json::json!({
        "kind": "decision",
        "command": format!("curl -H 'Authorization: token {secret}' https://api.github.com"),
        "nested": [{"env": {"GITHUB_TOKEN": secret}}],
    });
    r.redact_json(&mut value);
    let text = serde_json::to_string(&value).expect("serialize");
    assert!(!text.contains(secret.as_str()));
    let back: serde_json::Value = serde_json::from_str(&text).expect("still valid JSON");
    assert_eq!(back["kind"], "decision");
}

#[test]
fn entropy_matches_known_values() {
    assert_eq!(shannon_entropy(b""), 0.0);
    assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
}

/// Streams `text` split at `cuts`, draining with `Safe` after each push (and `Boundary` every
/// other push), then `All`; returns the concatenated output.
fn stream(r: &Arc<Redactor>, text: &str, cuts: &[usize]) -> String {
    let mut s: StreamRedactor<usize> = StreamRedactor::new(Arc::clone(r));
    let mut out = String::new();
    let mut last = 0;
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| c % (text.len() + 1))
        .filter(|c| text.is_char_boundary(*c))
        .collect();
    points.sort_unstable();
    points.push(text.len());
    for (i, p) in points.into_iter().enumerate() {
        s.push(i, &text[last..p]);
        last = p;
        for piece in s.drain(Release::Safe) {
            out.push_str(&piece.text);
        }
    }
    for piece in s.drain(Release::All) {
        out.push_str(&piece.text);
    }
    out
}

#[test]
fn secret_split_over_two_pushes_is_redacted() {
    let r = Arc::new(redactor());
    for p in planted() {
        let text = format!("$ env\r\n{}\r\nmore output\r\n", p.line);
        let mid = text.find(&p.secret).expect("secret in line") + p.secret.len() / 2;
        let out = stream(&r, &text, &[mid]);
        assert!(!out.contains(&p.secret), "{} leaked when split", p.rule);
    }
}

#[test]
fn overlong_private_key_block_is_suppressed_to_its_end() {
    let r = Arc::new(Redactor::builtin().expect("builtin"));
    let mut s: StreamRedactor<u32> = StreamRedactor::new(r);
    let line =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n";
    s.push(0, "before\r\n-----BEGIN RSA PRIVATE KEY-----\r\n");
    let mut out = String::new();
    for i in 0..400 {
        s.push(i, line);
        for p in s.drain(Release::Boundary) {
            out.push_str(&p.text);
        }
    }
    s.push(9999, "-----END RSA PRIVATE KEY-----\r\nafter\r\n");
    for p in s.drain(Release::All) {
        out.push_str(&p.text);
    }
    assert!(!out.contains("QUJDREVG"), "key body leaked");
    assert!(
        out.starts_with("before\r\n[REDACTED:private-key]"),
        "{out:.60}"
    );
    assert!(out.ends_with("after\r\n"), "{out}");
}

#[test]
fn pieces_cover_the_stream_in_order_with_their_tags() {
    let r = Arc::new(Redactor::builtin().expect("builtin"));
    let mut s: StreamRedactor<u32> = StreamRedactor::new(r);
    let mut pieces = Vec::new();
    for i in 0..50u32 {
        s.push(i, &format!("line {i}\r\n").repeat(20));
        pieces.extend(s.drain(Release::Safe));
    }
    pieces.extend(s.drain(Release::All));
    let mut at = 0;
    let mut tag = 0;
    for p in &pieces {
        assert_eq!(p.start, at);
        assert!(p.tag >= tag);
        at = p.end;
        tag = p.tag;
    }
    let text: String = pieces.iter().map(|p| p.text.as_str()).collect();
    let expected: String = (0..50)
        .map(|i| format!("line {i}\r\n").repeat(20))
        .collect();
    assert_eq!(text, expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever the read boundaries, streaming redaction equals one-shot redaction.
    #[test]
    fn streaming_equals_one_shot(
        picks in proptest::collection::vec(
            (0usize..40, "[ -~\r\n]{0,40}", proptest::option::of(0usize..200)),
            1..12,
        ),
        cuts in proptest::collection::vec(0usize..4000, 0..12),
    ) {
        let r = Arc::new(redactor());
        let corpus = planted();
        let mut text = String::new();
        for (i, filler, escape_at) in &picks {
            let p = &corpus[i % corpus.len()];
            text.push_str(filler);
            text.push_str("\r\n");
            let mut line = p.line.clone();
            // Optionally an SGR sequence inside the secret, as a TUI colouring part of it.
            if let Some(at) = escape_at {
                let start = line.find(&p.secret).unwrap_or(0);
                let at = start + at % p.secret.len().max(1);
                if line.is_char_boundary(at) {
                    line.insert_str(at, "\x1b[1;33m");
                }
            }
            text.push_str(&line);
            text.push_str("\x1b[0m\r\n");
        }
        let expected = r.redact(&text).into_owned();
        for p in &corpus {
            prop_assert!(!expected.contains(&p.secret), "{} leaked", p.rule);
        }
        let got = stream(&r, &text, &cuts);
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn secrets_broken_by_escape_sequences_are_redacted_and_the_escapes_kept() {
    let r = redactor();
    let token = &planted()[4].secret; // a ghp_ token
    let (a, b) = token.split_at(10);
    let text = format!("token \x1b[1;33m{a}\x1b[0m\x1b[2;5H{b}\x1b[K done");
    let out = r.redact(&text);
    assert!(!out.contains(a) || !out.contains(b), "{out:?}");
    assert!(!out.contains(&b[..8]), "{out:?}");
    assert_eq!(
        out,
        "token \x1b[1;33m[REDACTED:github-token]\x1b[0m\x1b[2;5H\x1b[K done"
    );
    // The same through the stream redactor with the split inside the escape sequence.
    let r = Arc::new(r);
    let cut = text.find("[2;5H").expect("csi");
    assert_eq!(stream(&r, &text, &[cut]), out);
}

#[test]
fn visible_view_maps_back_to_the_original() {
    use super::visible::tests::RunsOnly;
    use super::visible::{Walked, invisible_parts, walk};
    assert_eq!(walk("plain text", &mut RunsOnly), Walked::Same);
    let text = "a\x1b[31mb\x1b]0;title\x07c\x08d\x1b(Be";
    let Walked::Mapped(map) = walk(text, &mut RunsOnly) else {
        panic!("{text:?} has escapes");
    };
    let view = map.view(text);
    assert_eq!(view, "ab0;titlecde");
    assert_eq!(map.original(view.len()), text.len());
    for (i, ch) in view.char_indices() {
        assert_eq!(text[map.original(i)..].chars().next(), Some(ch));
    }
    assert_eq!(invisible_parts(text), "\x1b[31m\x1b]0;title\x07\x08\x1b(B");
}

#[test]
fn credential_values_come_from_credential_names_and_url_passwords() {
    let env = [
        ("GITHUB_TOKEN", "gho_notaformatweknow123"),
        ("PGPASSWORD", "hunter2hunter2"),
        (
            "DATABASE_URL",
            "postgres://app_rw:s3cr3t-pw-99@db.prod:5432/app",
        ),
        ("REDIS_URL", "redis://cache:6379/0"),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/home/me/.config/gcloud/key.json",
        ),
        ("MY_API_KEY", "abc"),
        ("HOME", "/home/me"),
        ("EDITOR", "vim"),
        ("AWS_SECRET_ACCESS_KEY", "hunter2hunter2"),
    ];
    let values = credential_values(env);
    assert_eq!(
        values,
        vec!["gho_notaformatweknow123", "hunter2hunter2", "s3cr3t-pw-99"]
    );
    let r = Redactor::new(&values).expect("redactor");
    assert_eq!(
        r.redact("psql -W hunter2hunter2"),
        "psql -W [REDACTED:env-credential]"
    );
}

#[test]
fn secrets_in_titles_and_hyperlinks_are_redacted_and_the_sequences_stay_well_formed() {
    let r = redactor();
    let token = &planted()[4].secret;
    let text = format!(
        "\x1b]0;deploy {token}\x07\x1b]8;;https://ci:Zx81kQwe77pLmnb2@ci.example.com/job\x1b\\job log\x1b]8;;\x1b\\\r\n"
    );
    let out = r.redact(&text);
    assert!(
        !out.contains(token.as_str()) && !out.contains("Zx81kQwe77pLmnb2"),
        "{out:?}"
    );
    assert_eq!(
        out,
        "\x1b]0;deploy [REDACTED:github-token]\x07\x1b]8;;https://ci:[REDACTED:basic-auth-url]@ci.example.com/job\x1b\\job log\x1b]8;;\x1b\\\r\n"
    );
}
