//! SVG line charts for the suite's results (plotters, SVG backend only: no fonts or image
//! libraries to install). Log scales are drawn by plotting log10 values and labelling ticks
//! with the values they stand for, which keeps one code path for both scales.

use std::path::Path;

use plotters::prelude::*;

use crate::Result;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub log_x: bool,
    pub log_y: bool,
    /// a horizontal reference line (a target or limit) and its legend
    pub reference: Option<(f64, String)>,
    /// join the points of a series (false: a scatter plot)
    pub lines: bool,
}

fn scale(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

fn label(v: f64, log: bool) -> String {
    let x = if log { 10f64.powf(v) } else { v };
    if x == 0.0 {
        return "0".into();
    }
    // Two significant digits: log-axis ticks fall between round numbers.
    let digits = x.abs().log10().floor() as i32;
    let unit = 10f64.powi(digits - 1);
    let rounded = (x / unit).round() * unit;
    if rounded.abs() >= 10_000.0 {
        format!("{:.0}k", rounded / 1000.0)
    } else if rounded.abs() >= 10.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.*}", (1 - digits).max(0) as usize)
    }
}

/// Readable, distinct line colours (accord's series come first, the baseline's after).
const COLOURS: [(u8, u8, u8); 8] = [
    (214, 39, 40),
    (31, 119, 180),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
    (23, 190, 207),
    (127, 127, 127),
];

/// Padded axis range of the scaled values.
fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(if hi.abs() > 0.0 { hi.abs() * 0.05 } else { 0.5 });
    if !from_zero || lo < 0.0 {
        lo -= pad;
    }
    hi += pad;
    (lo, hi)
}

/// Draws `series` into the SVG file `path`.
pub fn draw(path: &Path, chart: &Chart, series: &[Series]) -> Result<()> {
    let scaled: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| {
            let pts = s
                .points
                .iter()
                .filter_map(|&(x, y)| Some((scale(x, chart.log_x)?, scale(y, chart.log_y)?)))
                .collect();
            (s.name.clone(), pts)
        })
        .filter(|(_, pts): &(String, Vec<(f64, f64)>)| !pts.is_empty())
        .collect();
    let reference = chart
        .reference
        .as_ref()
        .and_then(|(v, name)| Some((scale(*v, chart.log_y)?, name.clone())));
    let xs = scaled.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (x0, x1) = range(xs, !chart.log_x);
    let ys = scaled
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .chain(reference.iter().map(|r| r.0));
    let (y0, y1) = range(ys, !chart.log_y);

    let root = SVGBackend::new(path, (860, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let (log_x, log_y) = (chart.log_x, chart.log_y);
    let x_fmt = move |v: &f64| label(*v, log_x);
    let y_fmt = move |v: &f64| label(*v, log_y);
    c.configure_mesh()
        .x_desc(chart.x_desc)
        .y_desc(chart.y_desc)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if let Some((y, name)) = reference {
        let style = RED.mix(0.6).stroke_width(1);
        c.draw_series(LineSeries::new(vec![(x0, y), (x1, y)], style))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    for (i, (name, pts)) in scaled.iter().enumerate() {
        let (r, g, b) = COLOURS[i % COLOURS.len()];
        let color = RGBColor(r, g, b).to_rgba();
        let line = color.stroke_width(2);
        let drawn = if chart.lines {
            c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
            c.draw_series(LineSeries::new(pts.clone(), line))?
        } else {
            c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?
        };
        drawn
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_with_log_axis_and_skips_non_positive_values() {
        let dir = std::env::temp_dir().join(format!("loadgen-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.svg");
        let chart = Chart {
            title: "t",
            x_desc: "x",
            y_desc: "ms",
            log_x: false,
            log_y: true,
            reference: Some((50.0, "limit".into())),
            lines: true,
        };
        let series = [Series {
            name: "accord p99".into(),
            points: vec![(1.0, 10.0), (2.0, 0.0), (3.0, 300.0)],
        }];
        draw(&path, &chart, &series).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..50.min(svg.len())]);
        assert!(svg.contains("accord p99") && svg.contains("limit"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn labels_have_two_significant_digits() {
        assert_eq!(label(2.0, true), "100");
        assert_eq!(label(0.2, true), "1.6");
        assert_eq!(label(1.8, true), "63");
        assert_eq!(label(123_456.0, false), "120k");
        assert_eq!(label(0.0, false), "0");
        assert_eq!(label(0.25, false), "0.25");
    }
}
