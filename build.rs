//! Pre-parses the built-in rule packs (`rules/*.toml`) into MessagePack in `$OUT_DIR`, so a
//! short-lived `overwatch check`, hook or shim decodes them in a fraction of the time a TOML parse
//! of all of them takes (~2 ms of a 3 ms budget). The TOML files stay the source of truth and are
//! embedded too: `rules test`, `rules lint` and error messages read them, with exact spans.
//!
//! The conversion is generic (TOML table → MessagePack map, value for value), so the pack schema lives
//! only in `src/rules/pack.rs`; a syntax error in a built-in pack fails the build with TOML's
//! file:line:column message. Each rule's `examples` table is left out: only `rules test`,
//! `rules lint` and the tests use examples, and they read the TOML.
//!
//! Each pack becomes two files: `NAME.msgpack`, the pack with every rule and program replaced
//! by a stub (a rule's `id`, `program`, `subcommand`, `action`; a program's `name`, `aliases`;
//! and `body = [offset, length]`), and `NAME.bodies.msgpack`, their whole tables one after
//! another. The engine indexes the stubs and decodes a body the first time a command reaches it.
//!
//! It also writes `regex_hints.rs`: for each rule pattern of the built-in packs, the literals
//! every match must start with (regex-syntax's prefix extraction, as regex-automata's own
//! prefilters use it). A pattern's first search checks them with `memmem` and compiles the
//! pattern only if one is there: most rule patterns a short-lived process reaches cannot match
//! its command, and compiling one costs 0.05–0.4M instructions.

use std::collections::BTreeMap;
use std::path::Path;

use regex_syntax::hir::literal::{ExtractKind, Extractor};

fn main() {
    link_without_pie();
    println!("cargo:rerun-if-changed=rules");
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut names = Vec::new();
    for entry in std::fs::read_dir("rules").expect("reading rules/") {
        let path = entry.expect("reading rules/").path();
        if path.extension().is_some_and(|x| x == "toml") {
            names.push(path);
        }
    }
    names.sort();
    let mut hints = BTreeMap::new();
    for path in names {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut bodies = Vec::new();
        for (array, keys) in [
            ("programs", &["name", "aliases"][..]),
            ("rules", &["id", "program", "subcommand", "action"][..]),
        ] {
            if let Some(toml::Value::Array(entries)) = table.get_mut(array) {
                for entry in entries.iter_mut() {
                    let toml::Value::Table(body) = entry else {
                        panic!("{}: every [[{array}]] entry is a table", path.display())
                    };
                    body.remove("examples");
                    if array == "rules" {
                        collect_hints(body, &mut hints);
                    }
                    *entry = stub(body, keys, &mut bodies, &path);
                }
            }
        }
        let stem = path.file_stem().expect("a .toml file has a stem");
        let write = |extension: &str, bytes: &[u8]| {
            let dest = Path::new(&out).join(stem).with_extension(extension);
            std::fs::write(&dest, bytes)
                .unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
        };
        let bytes = rmp_serde::to_vec(&table)
            .unwrap_or_else(|e| panic!("encoding {}: {e}", path.display()));
        write("msgpack", &bytes);
        write("bodies.msgpack", &bodies);
    }
    write_hints(&Path::new(&out).join("regex_hints.rs"), &hints);
}

/// Most literals a hint may hold: past this a pattern is compiled as usual.
const MAX_HINT_LITERALS: usize = 16;

/// Adds the prefix literals of every pattern a rule table holds (`regex`, `args`, `not_args`,
/// `stdin`, `when.target`, `when.fact.is`/`not`) to `hints`; patterns without a usable hint
/// (one that can start anywhere, like `.*x`, or an empty literal) are left out.
fn collect_hints(rule: &toml::Table, hints: &mut BTreeMap<String, Vec<Vec<u8>>>) {
    fn strings<'a>(v: Option<&'a toml::Value>, out: &mut Vec<&'a str>) {
        match v {
            Some(toml::Value::String(s)) => out.push(s),
            Some(toml::Value::Array(a)) => out.extend(a.iter().filter_map(|v| v.as_str())),
            _ => {}
        }
    }
    let mut patterns = Vec::new();
    for key in ["regex", "args", "not_args", "stdin"] {
        strings(rule.get(key), &mut patterns);
    }
    if let Some(when) = rule.get("when").and_then(|w| w.as_table()) {
        strings(when.get("target"), &mut patterns);
        if let Some(fact) = when.get("fact").and_then(|f| f.as_table()) {
            strings(fact.get("is"), &mut patterns);
            strings(fact.get("not"), &mut patterns);
        }
    }
    for src in patterns {
        // The engine's syntax: regex-syntax's defaults (Unicode, UTF-8), as `LazyRegex`.
        let Ok(hir) = regex_syntax::Parser::new().parse(src) else {
            continue; // `rules test` reports it
        };
        let mut seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        seq.optimize_for_prefix_by_preference();
        let Some(literals) = seq.literals() else {
            continue;
        };
        if literals.is_empty()
            || literals.len() > MAX_HINT_LITERALS
            || literals.iter().any(|l| l.as_bytes().is_empty())
        {
            continue;
        }
        let bytes = literals.iter().map(|l| l.as_bytes().to_vec()).collect();
        hints.insert(src.to_string(), bytes);
    }
}

/// Writes `hints` as a Rust table sorted by pattern: `REGEX_HINTS: &[(&str, &[&[u8]])]`.
fn write_hints(dest: &Path, hints: &BTreeMap<String, Vec<Vec<u8>>>) {
    let mut code = String::from(
        "/// Prefix literals of built-in rule patterns, sorted by pattern (written by build.rs).\n\
         pub static REGEX_HINTS: &[(&str, &[&[u8]])] = &[\n",
    );
    for (src, literals) in hints {
        code.push_str(&format!("    ({src:?}, &["));
        for lit in literals {
            code.push_str(&format!("&{lit:?}, "));
        }
        code.push_str("]),\n");
    }
    code.push_str("];\n");
    std::fs::write(dest, code).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}

/// An entry's `keys` (what the engine needs before the entry is ever used: a rule's id, the
/// programs and first subcommand it is indexed under and its action; a program's name and
/// aliases), plus `body = [offset, length]` of its whole table appended to `bodies`: a
/// short-lived process decodes only the rules and programs a command reaches.
///
/// The stub is an array in `keys` order, then `body` (an absent key is an empty array): serde
/// reads a struct from a sequence by position, which spares a start-up decode matching every
/// field name of ~200 stubs.
fn stub(body: &toml::Table, keys: &[&str], bodies: &mut Vec<u8>, path: &Path) -> toml::Value {
    let mut stub: Vec<toml::Value> = keys
        .iter()
        .map(|&key| {
            body.get(key)
                .cloned()
                .unwrap_or_else(|| toml::Value::Array(Vec::new()))
        })
        .collect();
    let at = bodies.len();
    rmp_serde::encode::write(bodies, body)
        .unwrap_or_else(|e| panic!("encoding {}: {e}", path.display()));
    let offset = |n: usize| toml::Value::Integer(i64::try_from(n).expect("packs are small"));
    stub.push(toml::Value::Array(vec![
        offset(at),
        offset(bodies.len() - at),
    ]));
    toml::Value::Array(stub)
}

/// Links the `overwatch` binary as a position-dependent executable on Linux.
///
/// Every start of a PIE binary this size makes the dynamic loader apply ~38 000 relative
/// relocations (panic locations, format strings, vtables), copying ~160 pages of `.data.rel.ro`:
/// ~0.6 ms of the 2–3 ms a hook, shim or `overwatch check` may take (measured: `--version`
/// 1.63 → 1.03 ms CPU, page faults 267 → 98). The cost of the trade: the binary's own image is
/// not randomized (libraries, heap, stack and mmaps still are). The adversary overwatch guards
/// against runs as the same user, which the supervisor shuts out of its memory with
/// `PR_SET_DUMPABLE` (no ptrace, no `/proc/PID/mem` or `maps`) — see `cmd::run`.
fn link_without_pie() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        // After rustc's own `-pie`: the last of the two wins in the cc driver.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
