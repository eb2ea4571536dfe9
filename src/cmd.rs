//! One module per subcommand: turns parsed CLI args into settings and calls the library modules.

pub mod check;
pub mod config;
pub mod env;
pub mod rules;
pub mod run;
