//! Custom probes declared by a team (config or rule packs): a value read from an env var or from a
//! file with a regex, mapped to a tier.
//!
//! The value is the env var's value, or the regex's first capture group (the whole match if it
//! has none) in the file (`~/…` under home, relative paths under the cwd). Tier: the probe's own
//! `tiers` map (exact, case-insensitive), else a `[[pins]]` entry, else `unknown` — a custom
//! probe's value is never guessed by name, since the team declared what it means.
//! An unset variable or a missing file means the probe does not apply (no fact); a bad regex, an
//! unreadable file or no match is reported as an `unknown` fact, never fatal.
//!
//! The value of an env-backed probe is shown; do not point a probe at a secret.

use super::scan::{FileRead, Scan, details};
use super::{CustomProbe, FactKind, Tier, Verdict, tier};

/// Checks a probe declaration: it needs `env` or `file`, a `file` needs a compiling `regex`.
pub fn check(probe: &CustomProbe) -> Result<(), String> {
    match (&probe.env, &probe.file, &probe.regex) {
        (None, None, _) => Err("needs `env` or `file`".into()),
        (_, Some(_), None) => Err("`file` needs a `regex`".into()),
        (_, _, Some(re)) => regex::Regex::new(re)
            .map(|_| ())
            .map_err(|e| format!("regex: {e}")),
        _ => Ok(()),
    }
}

/// Emits one fact per custom probe.
pub fn probe(s: &mut Scan) {
    let probes = s.knowledge.probes.clone();
    for p in &probes {
        run_one(s, p);
    }
}

fn run_one(s: &mut Scan, p: &CustomProbe) {
    let mut d = details([
        ("probe", Some(p.name.as_str())),
        ("description", p.description.as_deref()),
    ]);
    let unknown = |reason: String| Verdict {
        tier: Tier::Unknown,
        reason,
    };
    if let Some(var) = &p.env
        && let Some(value) = s.var(var).map(str::to_string)
    {
        let verdict = verdict_for(s, p, &value);
        s.fact(FactKind::Custom, value, d, format!("env {var}"), verdict);
        return;
    }
    // An unset variable or a missing file means the probe does not apply here (a team probe
    // for one repository, a built-in probe nobody configured): no fact, rather than an
    // `unknown` that would raise every session's tier.
    let Some(file) = &p.file else {
        return;
    };
    let path = s.expand(file);
    let shown = s.display(&path);
    let re = match p.regex.as_deref().map(tier::cached_regex) {
        Some(Ok(re)) => re,
        Some(Err(e)) => {
            let v = unknown(format!("probe '{}': bad regex: {e}", p.name));
            s.fact(FactKind::Custom, "(bad regex)", d, shown, v);
            return;
        }
        None => {
            let v = unknown(format!("probe '{}': `file` needs a `regex`", p.name));
            s.fact(FactKind::Custom, "(no regex)", d, shown, v);
            return;
        }
    };
    let text = match s.read(&path) {
        FileRead::Text(t) => t,
        FileRead::Missing => return,
        FileRead::Unreadable(msg) => {
            let v = unknown(format!("probe '{}': {msg}", p.name));
            s.fact(FactKind::Custom, "(unreadable file)", d, shown, v);
            return;
        }
    };
    let value = re.captures(&text).and_then(|c| {
        c.get(1)
            .or_else(|| c.get(0))
            .map(|m| m.as_str().trim().to_string())
    });
    match value {
        Some(value) => {
            let verdict = verdict_for(s, p, &value);
            s.fact(FactKind::Custom, value, d, shown, verdict);
        }
        None => {
            d.insert("regex".into(), re.as_str().to_string());
            let v = unknown(format!(
                "probe '{}': regex found nothing in {shown}",
                p.name
            ));
            s.fact(FactKind::Custom, "(no match)", d, shown, v);
        }
    }
}

fn verdict_for(s: &Scan, p: &CustomProbe, value: &str) -> Verdict {
    if let Some((_, t)) = p.tiers.iter().find(|(k, _)| k.eq_ignore_ascii_case(value)) {
        return Verdict {
            tier: *t,
            reason: format!("probe '{}' reads '{value}' → {t} (probe tiers)", p.name),
        };
    }
    let label = format!("probe {}", p.name);
    if let Some(v) = tier::pinned(
        FactKind::Custom,
        &[(label.as_str(), value)],
        &s.knowledge.pins,
    ) {
        return v;
    }
    Verdict {
        tier: Tier::Unknown,
        reason: format!(
            "probe '{}' reads '{value}', which its tiers map does not list",
            p.name
        ),
    }
}
