//! Pre-parses the built-in rule packs (`rules/*.toml`) into MessagePack in `$OUT_DIR`, so a
//! short-lived `overwatch check`, hook or shim decodes them in a fraction of the time a TOML parse
//! of all of them takes (~2 ms of a 3 ms budget). The TOML files stay the source of truth and are
//! embedded too: `rules test`, `rules lint` and error messages read them, with exact spans.
//!
//! The conversion is generic (TOML table → MessagePack map, value for value), so the pack schema lives
//! only in `src/rules/pack.rs`; a syntax error in a built-in pack fails the build with TOML's
//! file:line:column message. Each rule's `examples` table is left out: only `rules test`,
//! `rules lint` and the tests use examples, and they read the TOML.

use std::path::Path;

fn main() {
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
    for path in names {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(toml::Value::Array(rules)) = table.get_mut("rules") {
            for rule in rules.iter_mut().filter_map(toml::Value::as_table_mut) {
                rule.remove("examples");
            }
        }
        let bytes = rmp_serde::to_vec(&table)
            .unwrap_or_else(|e| panic!("encoding {}: {e}", path.display()));
        let stem = path.file_stem().expect("a .toml file has a stem");
        let dest = Path::new(&out).join(stem).with_extension("msgpack");
        std::fs::write(&dest, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
    }
}
