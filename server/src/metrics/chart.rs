//! Charts drawn with plotters as SVG: lines over time (gaps left open) and top-N bars.
//
// Colours are fixed; text and axes are drawn black and turned into `currentColor`, so the page's
// light or dark theme colours them (a downloaded file falls back to black).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// Width and height of every chart, in SVG units (the page scales it to its column).
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 260;

/// Line colours, distinguishable in both themes and for common colour blindness (Okabe-Ito).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
];
const GRID: RGBAColor = RGBAColor(128, 128, 128, 0.3);

/// What a chart measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Millicores.
    Cpu,
    /// Bytes.
    Memory,
}

impl Unit {
    /// The axis unit for values up to `max`, its divisor, and decimals.
    pub fn scale(self, max: f64) -> (&'static str, f64, usize) {
        match self {
            Unit::Cpu if max >= 1000.0 => ("cores", 1000.0, 1),
            Unit::Cpu => ("millicores", 1.0, 0),
            Unit::Memory if max >= 1_073_741_824.0 => ("GiB", 1_073_741_824.0, 1),
            Unit::Memory => ("MiB", 1_048_576.0, 0),
        }
    }

    /// One value in words with its unit ("1.5 cores", "250 millicores", "3.2 GiB").
    pub fn format(self, value: f64, max: f64) -> String {
        let (unit, divisor, decimals) = self.scale(max);
        format!("{:.*} {unit}", decimals, value / divisor)
    }
}

/// One line: its legend and its points (milliseconds since the epoch, value); NaN is no data.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(i64, f64)>,
    /// Drawn dashed (allocatable, a limit rather than a use).
    pub dashed: bool,
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub enum Body {
    /// Lines over `[from_ms, to_ms]`; points farther apart than `gap_ms` are not joined.
    Lines {
        lines: Vec<Line>,
        from_ms: i64,
        to_ms: i64,
        gap_ms: i64,
    },
    /// Horizontal bars, largest first.
    Bars(Vec<(String, f64)>),
}

#[derive(Clone, Debug)]
pub struct ChartData {
    /// The chart's accessible name ("CPU of cluster default/prod-weu, last 1 h").
    pub title: String,
    pub unit: Unit,
    pub body: Body,
    /// Said on the chart when there is nothing to draw ("No data in the last 1 h").
    pub empty: String,
    /// Said on the chart over what it draws ("No data since 14:02:11 UTC — …").
    pub note: Option<String>,
}

impl ChartData {
    /// The largest value shown (for the axis unit).
    pub fn max(&self) -> f64 {
        let values: Box<dyn Iterator<Item = f64> + '_> = match &self.body {
            Body::Lines { lines, .. } => {
                Box::new(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)))
            }
            Body::Bars(bars) => Box::new(bars.iter().map(|b| b.1)),
        };
        values.filter(|v| v.is_finite()).fold(0.0, f64::max)
    }

    fn is_empty(&self) -> bool {
        match &self.body {
            Body::Lines { lines, .. } => !lines
                .iter()
                .any(|l| l.points.iter().any(|p| p.1.is_finite())),
            Body::Bars(bars) => bars.is_empty(),
        }
    }
}

/// "14:05" (UTC) within a day, "12-01" beyond.
pub fn time_label(ms: i64, span_ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return String::new();
    };
    if span_ms > 86_400_000 {
        format!("{:02}-{:02} {:02}h", u8::from(t.month()), t.day(), t.hour())
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

/// Splits a line where points are missing or too far apart.
fn segments(points: &[(i64, f64)], gap_ms: i64) -> Vec<Vec<(i64, f64)>> {
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut current: Vec<(i64, f64)> = Vec::new();
    for &(at, v) in points {
        let far = current.last().is_some_and(|(prev, _)| at - prev > gap_ms);
        if !v.is_finite() || far {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            if !v.is_finite() {
                continue;
            }
        }
        current.push((at, v));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as a standalone SVG document with `role="img"` and its name.
pub fn svg(data: &ChartData) -> String {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        let result = if data.is_empty() {
            empty(&root, &data.empty)
        } else {
            match &data.body {
                Body::Lines {
                    lines,
                    from_ms,
                    to_ms,
                    gap_ms,
                } => draw_lines(&root, data, lines, *from_ms, *to_ms, *gap_ms),
                Body::Bars(bars) => draw_bars(&root, data, bars),
            }
        };
        let noted = match (&data.note, data.is_empty()) {
            (Some(note), false) => note_text(&root, note),
            _ => Ok(()),
        };
        result
            .and(noted)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    if let Err(e) = drawn {
        tracing::warn!(error = %e, chart = %data.title, "a chart could not be drawn");
    }
    finish(out, &data.title)
}

/// Names the SVG and lets the theme colour its text.
fn finish(svg: String, title: &str) -> String {
    let name = escape(title);
    let svg = svg
        .replace("fill=\"#000000\"", "fill=\"currentColor\"")
        .replace("stroke=\"#000000\"", "stroke=\"currentColor\"");
    match svg.split_once("<svg ") {
        Some((before, after)) => {
            let (attrs, rest) = after.split_once('>').unwrap_or((after, ""));
            format!(
                "{before}<svg role=\"img\" aria-label=\"{name}\" class=\"chart-svg\" {attrs}><title>{name}</title>{rest}"
            )
        }
        None => svg,
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn empty(root: &Area<'_>, message: &str) -> Result<(), String> {
    let style = TextStyle::from(("sans-serif", 18).into_font())
        .color(&BLACK)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
    root.draw(&Text::new(
        message.to_string(),
        ((WIDTH / 2) as i32, (HEIGHT / 2) as i32),
        style,
    ))
    .map_err(|e| e.to_string())
}

/// A line of text at the top right, over the plot.
fn note_text(root: &Area<'_>, message: &str) -> Result<(), String> {
    let style = TextStyle::from(("sans-serif", 16).into_font())
        .color(&RGBColor(213, 94, 0))
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Right,
            plotters::style::text_anchor::VPos::Top,
        ));
    let text: String = message.chars().take(90).collect();
    root.draw(&Text::new(text, ((WIDTH - 12) as i32, 4), style))
        .map_err(|e| e.to_string())
}

fn draw_lines(
    root: &Area<'_>,
    data: &ChartData,
    lines: &[Line],
    from_ms: i64,
    to_ms: i64,
    gap_ms: i64,
) -> Result<(), String> {
    let max = data.max();
    let (unit, divisor, decimals) = data.unit.scale(max);
    let top = (max * 1.15).max(divisor);
    let span = to_ms - from_ms;
    let label = ("sans-serif", 16).into_font().color(&BLACK);
    let mut chart = ChartBuilder::on(root)
        .margin(10)
        // Room for the last time label, centred on the right edge.
        .margin_right(26)
        .x_label_area_size(26)
        .y_label_area_size(58)
        .build_cartesian_2d(from_ms..to_ms, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK)
        .label_style(label.clone())
        .axis_desc_style(label.clone())
        .x_label_formatter(&|ms| time_label(*ms, span))
        .y_label_formatter(&|v| format!("{:.*}", decimals, v / divisor))
        .y_desc(unit)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, line) in lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let style = ShapeStyle::from(&color).stroke_width(2);
        let mut labelled = false;
        for part in segments(&line.points, gap_ms) {
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(part, 6, 4, style))
            } else if part.len() == 1 {
                // A lone point between gaps: a dot, or it would not show.
                chart.draw_series(part.into_iter().map(|p| Circle::new(p, 2, color.filled())))
            } else {
                chart.draw_series(LineSeries::new(part, style))
            }
            .map_err(|e| e.to_string())?;
            if !labelled {
                labelled = true;
                drawn.label(line.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(label)
        .border_style(TRANSPARENT)
        .background_style(TRANSPARENT)
        .draw()
        .map_err(|e| e.to_string())
}

fn draw_bars(root: &Area<'_>, data: &ChartData, bars: &[(String, f64)]) -> Result<(), String> {
    let max = data.max();
    let (unit, divisor, decimals) = data.unit.scale(max);
    let n = bars.len() as i32;
    let label = ("sans-serif", 16).into_font().color(&BLACK);
    let names: Vec<String> = bars
        .iter()
        .map(|(name, _)| {
            if name.chars().count() > 32 {
                format!("{}…", name.chars().take(31).collect::<String>())
            } else {
                name.clone()
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(root)
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(230)
        // A segmented 0..=k has k + 1 segments: one per bar.
        .build_cartesian_2d(
            0f64..(max * 1.1).max(divisor),
            (0..(n - 1).max(0)).into_segmented(),
        )
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(bars.len())
        .disable_y_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK)
        .label_style(label.clone())
        .axis_desc_style(label)
        .x_label_formatter(&|v| format!("{:.*}", decimals, v / divisor))
        .y_label_formatter(&|v| match v {
            // The largest is drawn at the top.
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => names
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .x_desc(unit)
        .draw()
        .map_err(|e| e.to_string())?;
    let color = PALETTE[0];
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let row = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (*v, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(points: Vec<(i64, f64)>) -> ChartData {
        ChartData {
            title: "CPU of node <a>".into(),
            unit: Unit::Cpu,
            body: Body::Lines {
                lines: vec![Line {
                    label: "used".into(),
                    points,
                    dashed: false,
                }],
                from_ms: 0,
                to_ms: 600_000,
                gap_ms: 60_000,
            },
            empty: "No data".into(),
            note: None,
        }
    }

    #[test]
    fn lines_break_at_missing_points_and_long_silences() {
        let parts = segments(
            &[
                (0, 1.0),
                (30_000, 2.0),
                (60_000, f64::NAN),
                (90_000, 3.0),
                (400_000, 4.0),
                (420_000, 5.0),
            ],
            60_000,
        );
        assert_eq!(
            parts,
            vec![
                vec![(0, 1.0), (30_000, 2.0)],
                vec![(90_000, 3.0)],
                vec![(400_000, 4.0), (420_000, 5.0)]
            ]
        );
    }

    #[test]
    fn the_svg_is_named_and_its_text_escaped() {
        let svg = svg(&line(vec![(0, 100.0), (60_000, 1500.0)]));
        assert!(
            svg.contains("<svg role=\"img\" aria-label=\"CPU of node &lt;a&gt;\""),
            "{svg}"
        );
        assert!(svg.contains("<title>CPU of node &lt;a&gt;</title>"));
        // Above a core, the axis is in cores.
        assert!(svg.contains(">\ncores\n</text>"), "{svg}");
        assert!(!svg.contains("fill=\"#000000\""));
    }

    #[test]
    fn an_empty_chart_says_why() {
        let svg = svg(&line(vec![]));
        assert!(svg.contains("No data"));
    }

    #[test]
    fn units_follow_the_size_of_the_values() {
        assert_eq!(Unit::Cpu.format(250.0, 900.0), "250 millicores");
        assert_eq!(Unit::Cpu.format(1500.0, 2000.0), "1.5 cores");
        assert_eq!(Unit::Memory.format(536_870_912.0, 536_870_912.0), "512 MiB");
        assert_eq!(Unit::Memory.format(3_221_225_472.0, 4e9), "3.0 GiB");
    }

    #[test]
    fn time_labels_are_utc_clock_times_within_a_day() {
        assert_eq!(time_label(1_764_590_700_000, 3_600_000), "12:05");
        assert_eq!(time_label(1_764_590_700_000, 7 * 86_400_000), "12-01 12h");
    }
}
