//! libFuzzer target: any UTF-8 input through parse → unwrap → evaluate (see
//! `overwatch::rules::fuzzing::fuzz_one` for the invariants).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        overwatch::rules::fuzzing::fuzz_one(s);
    }
});
