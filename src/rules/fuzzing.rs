//! Fuzzing entry points for the parser + unwrapper + engine, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/parse_unwrap.rs`, nightly) and a stable smoke run (`fuzz_smoke` test, and
//! `fuzz/run-brief.sh` when cargo-fuzz is unavailable).
//!
//! **Invariant checked:** no input panics; an evaluation never reports more commands than the
//! parser limit allows; an input the parser could not fully read is never `allow`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use crate::context::{Context, Fact, FactKind, Knowledge, ProbeEnv, Tier};

use super::{CommandInput, Decision, Engine, EvalEnv, Layer, parse};

static ENGINE: LazyLock<Option<Engine>> =
    LazyLock::new(|| Engine::from_sources(Vec::new(), Layer::Team, true).ok());

static ENV: LazyLock<(Context, ProbeEnv)> = LazyLock::new(|| {
    let facts = [
        FactKind::Kube,
        FactKind::Aws,
        FactKind::Database,
        FactKind::Git,
    ]
    .into_iter()
    .map(|kind| Fact {
        kind,
        name: "prod".into(),
        details: BTreeMap::new(),
        source: "fuzz".into(),
        tier: Tier::Production,
        reason: "fuzz".into(),
    })
    .collect();
    (
        Context {
            tier: Tier::Production,
            facts,
            credentials: Vec::new(),
        },
        ProbeEnv {
            home: PathBuf::from("/home/f"),
            cwd: PathBuf::from("/home/f/p"),
            env: [(
                "DATABASE_URL".to_string(),
                "postgres://u:p@prod-db/app".to_string(),
            )]
            .into(),
        },
    )
});

/// Runs one input through parse → unwrap → evaluate and checks the invariants (panics on a
/// violation, which is what a fuzzer reports).
pub fn fuzz_one(input: &str) {
    let script = parse::parse(input, &parse::ParseEnv::default());
    assert!(script.commands.len() <= parse::MAX_COMMANDS + parse::MAX_DEPTH);
    let Some(engine) = ENGINE.as_ref() else {
        return;
    };
    let (ctx, probe) = &*ENV;
    let knowledge = Knowledge::default();
    let env = EvalEnv {
        ambient: &crate::rules::Ambient::Given(ctx),
        probe,
        knowledge: &knowledge,
    };
    let eval = engine.evaluate(&CommandInput::Shell(input.to_string()), &env);
    if script.incomplete {
        assert!(
            eval.decision >= Decision::Warn,
            "incomplete parse allowed: {input:?}"
        );
    }
    let argv: Vec<String> = input.split_whitespace().map(str::to_string).collect();
    let _ = engine.evaluate(&CommandInput::Argv(argv), &env);
}

/// Shell-flavoured fragments the generator splices together.
const TOKENS: &[&str] = &[
    "rm",
    "-rf",
    "/",
    "~",
    "git",
    "push",
    "-f",
    "kubectl",
    "delete",
    "ns",
    "sudo",
    "env",
    "X=1",
    "bash",
    "-c",
    "sh",
    "eval",
    "xargs",
    "find",
    "-exec",
    "{}",
    ";",
    "\\;",
    "+",
    "|",
    "||",
    "&&",
    "&",
    ";;",
    "(",
    ")",
    "{",
    "}",
    "$(",
    "`",
    "<(",
    ">(",
    "<<",
    "<<<",
    "EOF",
    "'",
    "\"",
    "$'",
    "\\",
    "$",
    "${",
    ":-",
    "}",
    "#",
    "\n",
    " ",
    "  ",
    "\t",
    ">",
    ">>",
    "2>&1",
    "<",
    "*",
    "?",
    "[",
    "]",
    "!",
    "if",
    "then",
    "fi",
    "for",
    "do",
    "done",
    "case",
    "esac",
    "in",
    "function",
    "f()",
    "alias",
    "=",
    "psql",
    "-c",
    "DROP TABLE x",
    "python3",
    "import os; os.system('x')",
    "ssh",
    "host",
    "base64",
    "-d",
    "printf",
    "%s\\n",
    "echo",
    "é",
    "\u{202e}",
    "\0",
    "$((",
    "))",
    "[[",
    "]]",
    "-n",
    "--",
    "timeout",
    "10",
    "nohup",
    "watch",
    "parallel",
    ":::",
];

/// A small deterministic generator (xorshift64*), so the stable smoke run is reproducible.
pub struct Gen(u64);

impl Gen {
    /// A generator from a seed (0 is replaced by a constant).
    pub fn new(seed: u64) -> Gen {
        Gen(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One input: spliced tokens, a mutated seed line, or deep nesting.
    pub fn input(&mut self, seeds: &[&str]) -> String {
        match self.below(6) {
            0 => {
                let depth = 1 + self.below(200);
                let (open, close) = [
                    ("$(", ")"),
                    ("(", ")"),
                    ("bash -c '", "'"),
                    ("{ ", "; }"),
                    ("`", "`"),
                ][self.below(5)];
                format!(
                    "{}rm -rf /{}",
                    open.repeat(depth),
                    close.repeat(self.below(depth + 1))
                )
            }
            1 | 2 if !seeds.is_empty() => {
                let mut s: Vec<char> = seeds[self.below(seeds.len())].chars().collect();
                for _ in 0..1 + self.below(6) {
                    let at = self.below(s.len() + 1);
                    match self.below(3) {
                        0 if at < s.len() => {
                            s.remove(at);
                        }
                        1 => {
                            for c in TOKENS[self.below(TOKENS.len())].chars().rev() {
                                s.insert(at, c);
                            }
                        }
                        _ => s.insert(at, char::from(b' ' + (self.below(95) as u8))),
                    }
                }
                s.into_iter().collect()
            }
            _ => {
                let n = 1 + self.below(24);
                let mut s = String::new();
                for _ in 0..n {
                    s.push_str(TOKENS[self.below(TOKENS.len())]);
                    if self.below(3) > 0 {
                        s.push(' ');
                    }
                }
                s
            }
        }
    }
}
