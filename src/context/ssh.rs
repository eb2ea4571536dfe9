//! SSH: whether the agent runs inside an SSH session, and on which host.
//!
//! Sources: `SSH_CONNECTION` (`client_ip client_port server_ip server_port`) or `SSH_TTY`; the
//! host name from `HOSTNAME` ([`super::ProbeEnv::from_process`] fills it from `gethostname(2)`
//! when the shell did not export it). Outside SSH nothing is emitted: the local machine is the
//! developer's own.

use super::FactKind;
use super::scan::{Scan, details};

/// Emits the SSH session fact.
pub fn probe(s: &mut Scan) {
    let Some((var, value)) = s.first_var(&["SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"]) else {
        return;
    };
    let source = format!("env {var}");
    let server = if var == "SSH_CONNECTION" {
        value.split_whitespace().nth(2).map(str::to_string)
    } else {
        None
    };
    let host = s.var("HOSTNAME").unwrap_or("(unknown host)").to_string();
    let verdict = s.classify(
        FactKind::Ssh,
        &[
            ("host", &host),
            ("server address", server.as_deref().unwrap_or("")),
        ],
    );
    let d = details([("server_address", server.as_deref())]);
    s.fact(FactKind::Ssh, host, d, source, verdict);
}
