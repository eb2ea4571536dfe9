//! Rule-engine latency (criterion): parse + unwrap + target + match per command with the built-in
//! packs, with a generated 10,000-rule pack on top, pack loading, and parsing alone.
//!
//! Targets from the rule-engine issue: ≤ 20 µs per command with the built-in packs, ≤ 200 µs with
//! a generated 10k-rule pack. `overwatch check` whole-process latency is measured by
//! `benches/check-process.sh` (release binary).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use overwatch::context::{Context, Fact, FactKind, Knowledge, ProbeEnv, Tier};
use overwatch::rules::pack::PackSource;
use overwatch::rules::parse::{self, ParseEnv};
use overwatch::rules::{Ambient, CommandInput, Engine, EvalEnv, Layer};

const CORPUS: &str = include_str!("../tests/data/commands.tsv");

fn corpus() -> Vec<String> {
    CORPUS
        .lines()
        .skip(1)
        .filter_map(|l| l.splitn(3, '\t').nth(2).map(str::to_string))
        .collect()
}

fn production() -> (Context, ProbeEnv) {
    let fact = |kind, name: &str| Fact {
        kind,
        name: name.into(),
        details: BTreeMap::new(),
        source: "bench".into(),
        tier: Tier::Production,
        reason: "bench".into(),
    };
    let facts = vec![
        fact(FactKind::Kube, "prod-eu"),
        fact(FactKind::Aws, "prod"),
        fact(FactKind::Terraform, "prod"),
        fact(FactKind::Database, "prod-db"),
        fact(FactKind::Git, "main"),
    ];
    (
        Context {
            tier: Tier::Production,
            facts,
            credentials: Vec::new(),
        },
        ProbeEnv {
            home: PathBuf::from("/home/alice"),
            cwd: PathBuf::from("/home/alice/proj"),
            env: [(
                "DATABASE_URL".to_string(),
                "postgres://u:p@prod-db/app".to_string(),
            )]
            .into(),
        },
    )
}

/// A pack of `n` rules over 500 made-up programs with 20 subcommands each, mixing flag, regex,
/// path and tier conditions the way a large team pack would.
pub fn generated_pack(n: usize) -> String {
    let mut s =
        String::from("name = \"generated\"\nversion = \"1.0.0\"\ndescription = \"generated\"\n");
    for i in 0..n {
        let program = format!("tool{}", i % 500);
        let sub = format!("verb{}", (i / 500) % 20);
        s.push_str(&format!(
            "[[rules]]\nid = \"gen.r{i}\"\ndescription = \"generated rule {i}\"\nprogram = [\"{program}\"]\nsubcommand = [\"{sub}\"]\n"
        ));
        match i % 4 {
            0 => s.push_str("flags = [\"--force\", \"-f\"]\n"),
            1 => s.push_str(&format!("args = ['^prod-{i}-.*$']\n")),
            2 => s.push_str("paths = [\"system\", \"home\"]\n"),
            _ => s.push_str("when = { min_tier = \"staging\" }\n"),
        }
        s.push_str("action = \"confirm\"\nmessage = \"{program} {subcommand} on {target}\"\n");
    }
    s
}

fn bench(c: &mut Criterion) {
    let commands = corpus();
    let (ctx, probe) = production();
    let knowledge = Knowledge::default();
    let env = EvalEnv {
        ambient: &Ambient::Given(&ctx),
        probe: &probe,
        knowledge: &knowledge,
    };
    let builtin =
        Engine::from_sources(Vec::new(), Layer::Team, true).unwrap_or_else(|e| panic!("{e}"));
    let big = Engine::from_sources(
        vec![PackSource::inline("generated.toml", generated_pack(10_000))],
        Layer::Team,
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut big_commands = commands.clone();
    big_commands.extend(
        (0..40).map(|i| format!("tool{} verb{} --force prod-{i}-x /etc", i * 7 % 500, i % 20)),
    );

    let mut g = c.benchmark_group("evaluate");
    g.throughput(Throughput::Elements(commands.len() as u64));
    g.bench_function("builtin packs, corpus (per element = one command)", |b| {
        b.iter(|| {
            for cmd in &commands {
                black_box(builtin.evaluate(&CommandInput::Shell(cmd.clone()), &env));
            }
        })
    });
    g.throughput(Throughput::Elements(big_commands.len() as u64));
    g.bench_function(
        "builtin + 10k-rule pack, corpus + generated commands",
        |b| {
            b.iter(|| {
                for cmd in &big_commands {
                    black_box(big.evaluate(&CommandInput::Shell(cmd.clone()), &env));
                }
            })
        },
    );
    g.throughput(Throughput::Elements(1));
    for cmd in [
        "git status",
        "kubectl --context prod-eu delete ns payments",
        "echo cm0gLXJmIH4v | base64 -d | sh",
        "sudo -u deploy bash -c 'git -C /srv push -f'",
    ] {
        g.bench_function(format!("builtin: {cmd}"), |b| {
            b.iter(|| black_box(builtin.evaluate(&CommandInput::Shell(cmd.to_string()), &env)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(commands.len() as u64));
    g.bench_function("tree-sitter parse + word resolution, corpus", |b| {
        let penv = ParseEnv::default();
        b.iter(|| {
            for cmd in &commands {
                black_box(parse::parse(cmd, &penv));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.bench_function("compile built-in packs", |b| {
        b.iter(|| black_box(Engine::from_sources(Vec::new(), Layer::Team, true)))
    });
    g.bench_function("compile built-in + 10k-rule pack", |b| {
        let text = generated_pack(10_000);
        b.iter(|| {
            black_box(Engine::from_sources(
                vec![PackSource::inline("g.toml", text.clone())],
                Layer::Team,
                true,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
