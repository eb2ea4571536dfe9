//! Probe time for a realistic production-shaped machine (kubeconfig with three contexts, AWS SSO
//! profile + cache, gcloud, Azure, terraform with an S3 backend, a linked git worktree, a remote
//! docker context, database and service URLs, planted credentials), with and without team
//! knowledge, and the rule engine's per-command override path.
//!
//! Whole-process `overwatch env` time is measured by `benches/env_cold.sh`.

use overwatch::context::testkit;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use overwatch::context::{
    CustomProbe, FactKind, Knowledge, Overrides, Tier, TierPin, classify, detect, resolve_overrides,
};

fn team_knowledge() -> Knowledge {
    let mut pins: Vec<TierPin> = (0..20)
        .map(|i| TierPin {
            kind: Some("aws".into()),
            value: Some(format!("1000000000{i:02}")),
            pattern: None,
            tier: Tier::Staging,
            reason: None,
        })
        .collect();
    pins.push(TierPin {
        kind: Some("kube".into()),
        value: None,
        pattern: Some(r"^https://[A-Z0-9]+\.gr7\.eu-west-1\.eks\.amazonaws\.com$".into()),
        tier: Tier::Production,
        reason: Some("EKS eu-west-1".into()),
    });
    let probes = vec![CustomProbe {
        name: "flag-provider".into(),
        description: None,
        file: Some(".env.production".into()),
        regex: Some(r"PORT=(\d+)".into()),
        env: None,
        tiers: [("8080".to_string(), Tier::Production)]
            .into_iter()
            .collect(),
    }];
    Knowledge { pins, probes }
}

fn benches(c: &mut Criterion) {
    let home = testkit::prod_home();
    let none = Knowledge::default();
    let team = team_knowledge();
    assert_eq!(detect(&home.input, &none).tier, Tier::Production);

    c.bench_function("detect/prod_home", |b| {
        b.iter(|| detect(black_box(&home.input), &none))
    });
    c.bench_function("detect/prod_home+21_pins+probe", |b| {
        b.iter(|| detect(black_box(&home.input), &team))
    });
    let base = detect(&home.input, &team);
    let kube = Overrides {
        kube_context: Some("staging-eu".into()),
        ..Overrides::default()
    };
    c.bench_function("resolve_overrides/kube_context", |b| {
        b.iter(|| resolve_overrides(&base, black_box(&home.input), &team, &kube))
    });
    c.bench_function("classify/3_values_no_pins", |b| {
        b.iter(|| {
            classify(
                FactKind::Kube,
                black_box(&[
                    "prod-eu",
                    "arn:aws:eks:eu-west-1:123456789012:cluster/payments",
                    "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
                ]),
                &none,
            )
        })
    });
}

criterion_group!(context, benches);
criterion_main!(context);
