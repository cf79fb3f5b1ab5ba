//! Service KPIs (H1): the fold that turns case events into rollup counters, and the figures
//! reports compute from summed counters.

pub mod fold;
pub mod report;

pub use fold::{CaseState, DIMENSIONS, KpiFolder, day_of};
pub use report::{DurationFigure, Hours, KpiFigures, KpiRow, assemble, figures};
