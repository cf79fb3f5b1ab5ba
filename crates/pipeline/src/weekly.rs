//! Scheduled weekly reports (H6): once a week is over, its KPI report is written as
//! `kpi-week-YYYY-MM-DD.csv` and `.html` (the date is the week's Monday, UTC) into the
//! configured directory. A week whose files exist is done, so every process running the rollup
//! stage may try; each file is written under a temporary name and renamed into place, so a
//! reader never sees half a file and two writers leave one whole one.

use sb_analytics::kpi::{Hours, KpiRow, assemble, report::date_of_day};
use sb_domain::Clock;
use sb_store::reports::{KpiQuery, PeriodUnit};
use sb_store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct WeeklyReports {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    dir: PathBuf,
}

/// Day number of the Monday starting the week before the one `day` is in.
pub fn last_week_start(day: i64) -> i64 {
    // 1970-01-01 was a Thursday: (day + 3) mod 7 counts days since Monday.
    day - (day + 3).rem_euclid(7) - 7
}

impl WeeklyReports {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, dir: PathBuf) -> Self {
        Self { store, clock, dir }
    }

    async fn rows(
        &self,
        dim: &str,
        from: i64,
        unit: PeriodUnit,
    ) -> Result<Vec<KpiRow>, StoreError> {
        let q = KpiQuery {
            dim: dim.into(),
            from_day: from,
            to_day: from + 7,
            unit,
        };
        let sums = self.store.kpi_sums(&q).await?;
        let backlog = self.store.kpi_backlog_changes(dim, q.to_day).await?;
        Ok(assemble(&q, &sums, &backlog, Hours::Calendar, None))
    }

    /// Writes last week's report unless it exists; answers the CSV's path when it wrote one.
    pub async fn write_due(&self) -> Result<Option<PathBuf>, WeeklyError> {
        let week = last_week_start(self.clock.now().millis().div_euclid(DAY_MS));
        let name = format!("kpi-week-{}", date_of_day(week));
        let csv_path = self.dir.join(format!("{name}.csv"));
        if csv_path.exists() {
            return Ok(None);
        }
        let days = self.rows("all", week, PeriodUnit::Day).await?;
        let queues = self.rows("queue", week, PeriodUnit::Week).await?;
        let html = sb_analytics::weekly::html(&date_of_day(week), &days, &queues);
        let csv = sb_analytics::weekly::csv(&days, &queues);
        // The HTML first: the CSV's presence marks the week done.
        write_atomically(&self.dir, &format!("{name}.html"), &html).await?;
        write_atomically(&self.dir, &format!("{name}.csv"), &csv).await?;
        Ok(Some(csv_path))
    }
}

async fn write_atomically(dir: &Path, name: &str, body: &str) -> Result<(), WeeklyError> {
    let err = |path: PathBuf| move |source| WeeklyError::Write { path, source };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(err(dir.to_owned()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", ulid::Ulid::generate()));
    tokio::fs::write(&tmp, body)
        .await
        .map_err(err(tmp.clone()))?;
    let path = dir.join(name);
    tokio::fs::rename(&tmp, &path).await.map_err(err(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_week_starts_on_the_monday_before() {
        // 2026-11-25 (a Wednesday) is day 20,782; the Monday before last week is 2026-11-16.
        assert_eq!(super::last_week_start(20_782), 20_773);
        assert_eq!(super::last_week_start(20_780), 20_773, "from a Monday");
        assert_eq!(super::last_week_start(20_786), 20_773, "from a Sunday");
    }
}
