//! Secret detection and redaction shared by the recorder, the audit log and diff warnings.
//!
//! [`Redactor`] holds the built-in gitleaks-style rules ([`rules::RULES`]) compiled once, an
//! Aho-Corasick keyword prefilter (a rule's regex runs only when one of its keywords occurs), and the
//! literal values of credentials found in the agent's environment. [`StreamRedactor`] applies it to
//! an unbounded stream (PTY output) whose secrets may be split across reads.
//!
//! Invariants:
//! - a replacement is plain ASCII (`[REDACTED:<rule-id>]`), so redacted text stays well-formed UTF-8
//!   and, embedded in a JSON string, valid JSON;
//! - redaction never reveals the secret's length or any part of it (except the user and host of a
//!   basic-auth URL, which are not secret);
//! - a secret value is never logged or printed by this module.

pub mod env;
mod keywords;
pub mod redactor;
pub mod rules;
pub mod stream;
mod trigrams;
pub mod visible;

pub use redactor::*;
pub use stream::*;

#[cfg(test)]
pub(crate) mod planted;
#[cfg(test)]
mod tests;
