//! The report being written: its markdown, the charts it embeds, and the inputs every section reads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::charts::{self, Series};
use super::format::label;
use crate::results::{Implementation, Results};
use crate::scenario::{Scenario, Table};

/// What every section reads: the scenarios and one run's results.
pub struct Input<'a> {
    /// Every scenario.
    pub scenarios: &'a [Scenario],
    /// The run.
    pub results: &'a Results,
}

impl Input<'_> {
    /// The scenarios of one section, in file order.
    pub fn in_table(&self, t: Table) -> Vec<&Scenario> {
        self.scenarios.iter().filter(|s| s.table == t).collect()
    }

    /// CPUs of the machine the results come from.
    pub fn cores(&self) -> usize {
        self.results.environment.cores
    }

    /// Whether any measurement comes from `imp`.
    pub fn has(&self, imp: Implementation) -> bool {
        self.results
            .measurements
            .iter()
            .any(|m| m.implementation == imp)
    }
}

/// The markdown written so far and the charts drawn for it.
pub struct Page<'a> {
    /// REPORT.md text so far.
    pub out: String,
    /// Chart stems written (each has .svg and .png).
    pub charts: Vec<PathBuf>,
    charts_dir: &'a Path,
    charts_link: &'a str,
}

impl<'a> Page<'a> {
    /// An empty page whose charts go to `charts_dir`, linked as `charts_link/<name>.svg`.
    pub fn new(charts_dir: &'a Path, charts_link: &'a str) -> Page<'a> {
        Page {
            out: String::new(),
            charts: Vec::new(),
            charts_dir,
            charts_link,
        }
    }

    /// Draw a chart with `draw` (given the file stem) and embed it with `caption`.
    pub fn chart(
        &mut self,
        name: &str,
        caption: &str,
        draw: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let stem = self.charts_dir.join(name);
        draw(&stem)?;
        self.charts.push(stem);
        let _ = writeln!(
            self.out,
            "\n![{caption}]({}/{name}.svg)\n",
            self.charts_link
        );
        Ok(())
    }

    /// Grouped bars of Go / asherah 1.0 / Rust medians, one group per scenario.
    pub fn bars(
        &mut self,
        name: &str,
        title: &str,
        results: &Results,
        rows: &[&Scenario],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let categories: Vec<String> = rows.iter().map(|s| label(s)).collect();
        let mut series = Vec::new();
        for imp in [
            Implementation::Go,
            Implementation::Peer,
            Implementation::Rust,
        ] {
            let values: Vec<Option<f64>> = rows
                .iter()
                .map(|s| results.get(&s.id, imp).map(|m| m.summary.median))
                .collect();
            if values.iter().any(Option::is_some) {
                series.push(Series {
                    label: imp.label().into(),
                    values,
                });
            }
        }
        self.chart(name, title, |p| {
            charts::grouped_bars(p, title, "ns/op", &categories, &series)
        })
    }
}

impl std::fmt::Write for Page<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.out.push_str(s);
        Ok(())
    }
}
