//! One module per subcommand: turns parsed CLI args into settings and calls the library modules.

pub mod check;
pub mod config;
pub mod demo;
pub mod diff_watch;
pub mod env;
pub mod exec_shim;
pub mod hook;
pub mod replay;
pub mod rules;
pub mod run;
pub mod sessions;
pub mod shim;
