//! Fuzz the asciicast reader (v1/v2/v3, damaged input): opening and streaming every event of any
//! byte string must never panic, and every event it yields has a finite, non-decreasing time.
//!
//! overwatch is a binary crate, so the reader module is compiled in directly; it depends only on
//! std and serde_json by design.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/replay/cast.rs"]
mod cast;

fuzz_target!(|data: &[u8]| {
    let Ok(opened) = cast::open_from(Cursor::new(data.to_vec()), "fuzz") else {
        return;
    };
    let mut reader = cast::CastEvents::of_cast(opened.source, &opened.header, opened.start);
    let mut last = 0.0f64;
    while let Some(event) = reader.next_event() {
        assert!(event.time.is_finite() && event.time >= last);
        last = event.time;
        let _ = event.resize();
    }
});
