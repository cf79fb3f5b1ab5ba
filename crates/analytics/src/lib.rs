//! Analytics and reporting (H1–H6), as pure functions: the folds that turn stored facts into
//! rollup rows, and the figures, tests and forecasts computed from those rows. The store
//! reads and writes the rows; the pipeline runs the folds; the web crate serves the reports.
//! Nothing here does IO or reads a clock.

pub mod csv;
pub mod experiments;
pub mod forecast;
pub mod kpi;
pub mod messages;
pub mod retention;
pub mod themes;
pub mod weekly;
