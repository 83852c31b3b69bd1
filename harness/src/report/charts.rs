//! The report's charts (plotters), each written as SVG and PNG: grouped bars (log scale when values span more than
//! [`LOG_SPAN`]×) and line charts (thread scaling, payload-size curves).

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Above this max ÷ min ratio a value axis is logarithmic.
pub const LOG_SPAN: f64 = 30.0;
const SIZE: (u32, u32) = (960, 540);
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// One series of a chart: a label and one value per category (bars) or (x, y) points (lines).
#[derive(Debug, Clone)]
pub struct Series<T> {
    /// Legend label.
    pub label: String,
    /// Values.
    pub values: Vec<T>,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The PNG backend draws text through ab_glyph and needs a font; the bundled DejaVu Sans avoids fontconfig.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo <= hi).then_some((lo, hi))
}

/// Grouped bars, horizontal (category names read on the y axis): one group per category, one bar per series.
/// Writes `<stem>.svg` and `<stem>.png`.
pub fn grouped_bars(
    stem: &Path,
    title: &str,
    unit: &str,
    categories: &[String],
    series: &[Series<Option<f64>>],
) -> Result<()> {
    register_font();
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    // Room for every group: 18 px per bar plus a gap.
    let height =
        (120 + categories.len() as u32 * (series.len().max(1) as u32 * 18 + 10)).max(SIZE.1);
    let size = (SIZE.0, height);
    draw_bars(
        SVGBackend::new(&svg, size).into_drawing_area(),
        title,
        unit,
        categories,
        series,
    )?;
    draw_bars(
        BitMapBackend::new(&png, size).into_drawing_area(),
        title,
        unit,
        categories,
        series,
    )?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    unit: &str,
    categories: &[String],
    series: &[Series<Option<f64>>],
) -> Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing {title}: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let Some((lo, hi)) = span(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    ) else {
        return Ok(());
    };
    let n = categories.len().max(1);
    let k = series.len().max(1) as f64;
    let width = 0.8 / k;
    let log = hi / lo > LOG_SPAN;
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(10) as u32;
    let mut builder = ChartBuilder::on(&root);
    let chart = builder
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size((longest * 7 + 20).min(480));
    // Category i occupies y ∈ [n−1−i, n−i), so the first category is at the top; its label sits at the middle.
    let labels = |y: &f64| {
        let slot = y.floor();
        if (y - slot - 0.5).abs() < 1e-9 && slot >= 0.0 && (slot as usize) < n {
            categories[n - 1 - slot as usize].clone()
        } else {
            String::new()
        }
    };
    macro_rules! body {
        ($chart:expr, $base:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n * 2 + 1)
                .y_label_formatter(&labels)
                .y_label_style(("sans-serif", 13))
                .x_desc(unit)
                .draw()
                .map_err(err)?;
            for (j, s) in series.iter().enumerate() {
                let color = PALETTE[j % PALETTE.len()];
                let base = $base;
                chart
                    .draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                        let v = (*v)?;
                        // Series top to bottom in legend order.
                        let y1 = (n - 1 - i) as f64 + 0.9 - j as f64 * width;
                        Some(Rectangle::new(
                            [(base, y1 - width), (v, y1)],
                            color.filled(),
                        ))
                    }))
                    .map_err(err)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(err)?;
        }};
    }
    let slots = 0.0..n as f64;
    if log {
        let base = lo / 2.0;
        body!(
            chart
                .build_cartesian_2d((base..hi * 2.0).log_scale(), slots)
                .map_err(err)?,
            base
        );
    } else {
        body!(
            chart
                .build_cartesian_2d(0.0..hi * 1.1, slots)
                .map_err(err)?,
            0.0
        );
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Lines through (x, y) points, log-scaled axes as asked. Writes `<stem>.svg` and `<stem>.png`.
pub fn lines(
    stem: &Path,
    title: &str,
    x_desc: &str,
    unit: &str,
    log_x: bool,
    series: &[Series<(f64, f64)>],
) -> Result<()> {
    register_font();
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    draw_lines(
        SVGBackend::new(&svg, SIZE).into_drawing_area(),
        title,
        x_desc,
        unit,
        log_x,
        series,
    )?;
    draw_lines(
        BitMapBackend::new(&png, SIZE).into_drawing_area(),
        title,
        x_desc,
        unit,
        log_x,
        series,
    )?;
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    unit: &str,
    log_x: bool,
    series: &[Series<(f64, f64)>],
) -> Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing {title}: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let (Some((x0, x1)), Some((y0, y1))) = (
        span(series.iter().flat_map(|s| s.values.iter().map(|p| p.0))),
        span(series.iter().flat_map(|s| s.values.iter().map(|p| p.1))),
    ) else {
        return Ok(());
    };
    let log_y = y1 / y0 > LOG_SPAN;
    let mut builder = ChartBuilder::on(&root);
    let chart = builder
        .caption(title, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(50)
        .y_label_area_size(80);
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(unit)
                .draw()
                .map_err(err)?;
            for (j, s) in series.iter().enumerate() {
                let color = PALETTE[j % PALETTE.len()];
                let mut pts = s.values.clone();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(err)?;
        }};
    }
    let (xa, xb) = (x0 / 1.5, x1 * 1.5);
    let (ya, yb) = if log_y {
        (y0 / 1.5, y1 * 1.5)
    } else {
        (0.0, y1 * 1.15)
    };
    match (log_x, log_y) {
        (true, true) => body!(
            chart
                .build_cartesian_2d((xa..xb).log_scale(), (ya..yb).log_scale())
                .map_err(err)?
        ),
        (true, false) => body!(
            chart
                .build_cartesian_2d((xa..xb).log_scale(), ya..yb)
                .map_err(err)?
        ),
        (false, true) => body!(
            chart
                .build_cartesian_2d(x0 - 0.5..x1 + 0.5, (ya..yb).log_scale())
                .map_err(err)?
        ),
        (false, false) => body!(
            chart
                .build_cartesian_2d(x0 - 0.5..x1 + 0.5, ya..yb)
                .map_err(err)?
        ),
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_svg_and_png_for_bars_and_lines() {
        let dir = std::env::temp_dir().join(format!("lab-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cats = vec!["a".to_string(), "b".to_string()];
        grouped_bars(
            &dir.join("bars"),
            "t",
            "ns/op",
            &cats,
            &[
                Series {
                    label: "Go".into(),
                    values: vec![Some(10.0), Some(20_000.0)],
                },
                Series {
                    label: "Rust".into(),
                    values: vec![Some(5.0), None],
                },
            ],
        )
        .unwrap();
        lines(
            &dir.join("lines"),
            "t",
            "payload (B)",
            "ns/op",
            true,
            &[Series {
                label: "Go".into(),
                values: vec![(64.0, 100.0), (16384.0, 9000.0)],
            }],
        )
        .unwrap();
        for f in ["bars.svg", "bars.png", "lines.svg", "lines.png"] {
            let meta = std::fs::metadata(dir.join(f)).unwrap();
            assert!(meta.len() > 1000, "{f} is nearly empty");
        }
        let svg = std::fs::read_to_string(dir.join("bars.svg")).unwrap();
        assert!(svg.contains("<rect") && svg.contains("Rust"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
