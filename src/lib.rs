//! Library face of overwatch: the modules benches, integration tests and fuzz targets use
//! in-process. The binary (`main.rs`) declares the same modules for itself.

pub mod context;
pub mod rules;
