//! Figures with plotters: multi-panel line plots with min/max error bars or bands, linear or
//! "percent of weights remaining" log axes (decreasing to the right, as the LTH papers draw
//! them), heatmaps of square matrices (Early-Bird's mask distances), a title and a provenance
//! caption (wrapped to the figure's width), each panel's legend in the corner that hides the
//! fewest of its points; each figure is written as PNG and SVG.
//!
//! Text uses DejaVu Sans embedded in the binary (`assets/DejaVuSans.ttf`, via `ab_glyph`), so
//! figures render the same on machines without fonts.

use crate::aggregate::Stat;
use anyhow::{Context, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Series colours (re-exported so paper crates need not depend on plotters).
pub use plotters::style::RGBColor;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The matplotlib "tab10" colours the papers' figures use, for panels of up to ten lines.
pub const TAB10: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The first six tab10 colours: the palette most figures cycle through.
pub const PALETTE: [RGBColor; 6] = [TAB10[0], TAB10[1], TAB10[2], TAB10[3], TAB10[4], TAB10[5]];

fn register_font() -> Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    anyhow::ensure!(ok, "cannot load the embedded font");
    Ok(())
}

/// How a series shows its spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Vertical min/max error bars at each point.
    ErrorBars,
    /// A shaded min/max band.
    Band,
    None,
}

/// One line: points `(x, mean/min/max)`.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub spread: Spread,
    pub points: Vec<(f64, Stat)>,
}

impl Series {
    /// A dashed horizontal reference line at `y` from `x.0` to `x.1` (a dense network's
    /// accuracy, a threshold), without spread.
    pub fn horizontal(label: &str, color: RGBColor, x: (f64, f64), y: f64) -> Series {
        let s = Stat { mean: y, min: y, max: y };
        Series { label: label.into(), color, dashed: true, spread: Spread::None, points: vec![(x.0, s), (x.1, s)] }
    }
}

/// The x axis of a panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XAxis {
    Linear {
        min: f64,
        max: f64,
    },
    /// Percent of weights remaining on a log scale, from `max` (left) down to `min` (right).
    PercentRemaining {
        min: f64,
        max: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x: XAxis,
    /// `None`: fit the data (min/max included) with a 5 % margin.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
}

/// A matrix drawn as coloured cells: `values[row][column]` in `[0, 1]`, 0 yellow to 1 purple
/// (viridis reversed, as You et al. draw mask distances); row 0 at the top; NaN left blank.
#[derive(Debug, Clone)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub values: Vec<Vec<f64>>,
}

#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    /// Provenance line(s) drawn under the panels: scale, dataset and source, trials, commit.
    pub caption: String,
    pub panels: Vec<Panel>,
    /// Drawn after `panels`, in the same grid.
    pub heatmaps: Vec<Heatmap>,
    pub columns: usize,
    /// Size of one panel in pixels.
    pub panel_size: (u32, u32),
}

impl Figure {
    /// Writes `<stem>.png` and `<stem>.svg`.
    pub fn save(&self, stem: &Path) -> Result<()> {
        register_font()?;
        if let Some(dir) = stem.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create figure folder {} (check permissions or pass another --figures-dir)", dir.display()))?;
        }
        let rows = (self.panels.len() + self.heatmaps.len()).div_ceil(self.columns);
        let width = self.panel_size.0 * self.columns as u32;
        let caption = wrap(&self.caption, CAPTION_FONT, width - 2 * TEXT_MARGIN)?;
        let size = (width, self.panel_size.1 * rows as u32 + 50 + CAPTION_PITCH * caption.len() as u32);
        let title_font = fitting_size(&self.title, TITLE_FONT, width - 2 * TEXT_MARGIN)?;
        let png = stem.with_extension("png");
        let svg = stem.with_extension("svg");
        crate::util::write_atomic_with(&png, |tmp| {
            let tmp_png = tmp.with_extension("png");
            {
                let root = BitMapBackend::new(&tmp_png, size).into_drawing_area();
                self.draw(root, &caption, title_font)?;
            }
            std::fs::rename(&tmp_png, tmp)?;
            Ok(())
        })?;
        crate::util::write_atomic_with(&svg, |tmp| {
            let root = SVGBackend::new(tmp, size).into_drawing_area();
            self.draw(root, &caption, title_font)
        })
    }

    /// Draws the figure with its caption already broken into `caption` lines and its title at
    /// `title_font` pixels.
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>, caption: &[String], title_font: u32) -> Result<()> {
        root.fill(&WHITE).map_err(plot_err)?;
        let caption_h = CAPTION_PITCH * caption.len() as u32 + 6;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 - caption_h);
        let body = top.titled(&self.title, ("sans-serif", title_font)).map_err(plot_err)?;
        let style = ("sans-serif", CAPTION_FONT).into_font().color(&BLACK.mix(0.75));
        for (i, line) in caption.iter().enumerate() {
            bottom.draw_text(line, &style, (TEXT_MARGIN as i32, 2 + (CAPTION_PITCH * i as u32) as i32)).map_err(plot_err)?;
        }
        let rows = (self.panels.len() + self.heatmaps.len()).div_ceil(self.columns);
        let areas = body.split_evenly((rows, self.columns));
        for (heatmap, area) in self.heatmaps.iter().zip(areas.iter().skip(self.panels.len())) {
            draw_heatmap(area, heatmap)?;
        }
        for (panel, area) in self.panels.iter().zip(areas) {
            match panel.x {
                XAxis::Linear { min, max } => {
                    // Whole numbers for iteration axes; decimals for short ranges such as α in [0, 1].
                    let decimals = if max - min <= 5.0 { 2 } else { 0 };
                    draw_panel(&area, panel, min..max, move |v| format!("{v:.decimals$}"))?
                }
                XAxis::PercentRemaining { min, max } => {
                    let ticks = pm_ticks(panel);
                    draw_panel(
                        &area,
                        panel,
                        (max..min).log_scale().with_key_points(ticks),
                        |v| {
                            if *v >= 99.95 {
                                format!("{v:.0}")
                            } else {
                                format!("{v:.1}")
                            }
                        },
                    )?
                }
            }
        }
        root.present().map_err(plot_err)?;
        Ok(())
    }
}

/// Text sizes in pixels: the figure's title (the largest; a longer title shrinks to fit), the
/// caption, the caption's line pitch, and the space left and right of both.
const TITLE_FONT: u32 = 22;
const CAPTION_FONT: u32 = 13;
const CAPTION_PITCH: u32 = 18;
const TEXT_MARGIN: u32 = 10;
/// The smallest size a title shrinks to; a title still wider than the figure is clipped.
const MIN_TITLE_FONT: u32 = 12;

/// The width in pixels of `text` set in the embedded font at `size` pixels.
fn text_width(text: &str, size: u32) -> Result<u32> {
    let (w, _) = ("sans-serif", size).into_font().box_size(text).map_err(|e| anyhow::anyhow!("cannot measure text {text:?}: {e}"))?;
    Ok(w)
}

/// `text`'s lines broken at spaces so that none is wider than `width` pixels at `size`;
/// continuation lines are indented by two spaces, and a word wider than `width` keeps a line of
/// its own.
fn wrap(text: &str, size: u32, width: u32) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let joined = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if line.trim().is_empty() || text_width(&joined, size)? <= width {
                line = joined;
            } else {
                lines.push(std::mem::replace(&mut line, format!("  {word}")));
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

/// The largest size from `size` down to [`MIN_TITLE_FONT`] at which `text` fits `width` pixels.
fn fitting_size(text: &str, size: u32, width: u32) -> Result<u32> {
    for s in (MIN_TITLE_FONT..=size).rev() {
        if text_width(text, s)? <= width {
            return Ok(s);
        }
    }
    Ok(MIN_TITLE_FONT)
}

/// Tick positions on a "% weights remaining" axis: the x values of the data, thinned to at most
/// eight labels spaced at least 0.12 decades apart.
fn pm_ticks(panel: &Panel) -> Vec<f64> {
    let mut xs: Vec<f64> = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).filter(|x| *x > 0.0).collect();
    xs.sort_by(|a, b| b.total_cmp(a));
    xs.dedup_by(|a, b| (a.log10() - b.log10()).abs() < 1e-9);
    let mut kept: Vec<f64> = Vec::new();
    for x in xs {
        if kept.last().is_none_or(|k: &f64| k.log10() - x.log10() >= 0.12) {
            kept.push(x);
        }
    }
    while kept.len() > 8 {
        kept = kept.iter().copied().step_by(2).collect();
    }
    kept
}

fn y_bounds(panel: &Panel) -> (f64, f64) {
    if let Some(r) = panel.y_range {
        return r;
    }
    let vals: Vec<f64> = panel.series.iter().flat_map(|s| s.points.iter().flat_map(|(_, p)| [p.min, p.max, p.mean])).filter(|v| v.is_finite()).collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Decimals for the tick labels of a linear axis spanning `span`: as many as its finest likely
/// tick step (a tenth of the span, plotters' default label count) needs, so iterations read
/// "50000" rather than "50000.0" and accuracies "0.98" rather than "0.9800".
fn tick_decimals(span: f64) -> usize {
    if !(span.is_finite() && span > 0.0) {
        return 2;
    }
    (-(span / 10.0).log10()).ceil().clamp(0.0, 6.0) as usize
}

fn draw_panel<DB, X>(area: &DrawingArea<DB, Shift>, panel: &Panel, x: X, fmt: impl Fn(&f64) -> String) -> Result<()>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let (y0, y1) = y_bounds(panel);
    let y_decimals = tick_decimals(y1 - y0);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y0..y1)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&fmt)
        .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_err)?;
    for s in &panel.series {
        let pts: Vec<(f64, Stat)> = s.points.iter().copied().filter(|(_, p)| p.mean.is_finite()).collect();
        if pts.is_empty() {
            continue;
        }
        let color = s.color;
        if s.spread == Spread::Band && pts.len() > 1 {
            let mut poly: Vec<(f64, f64)> = pts.iter().map(|(x, p)| (*x, p.max)).collect();
            poly.extend(pts.iter().rev().map(|(x, p)| (*x, p.min)));
            chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.18)))).map_err(plot_err)?;
        }
        let line: Vec<(f64, f64)> = pts.iter().map(|(x, p)| (*x, p.mean)).collect();
        let style = color.stroke_width(2);
        if s.dashed {
            // The legend's sample is dashed too: two strokes, as the line's 6-on-4-off pattern.
            let stroke = move |from: i32, to: i32| PathElement::new(vec![(from, 0), (to, 0)], color.stroke_width(2));
            let anno = chart.draw_series(DashedLineSeries::new(line.clone(), 6, 4, style)).map_err(plot_err)?;
            anno.label(&s.label).legend(move |(x, y)| EmptyElement::at((x, y)) + stroke(0, 7) + stroke(11, 18));
        } else {
            let anno = chart.draw_series(LineSeries::new(line.clone(), style)).map_err(plot_err)?;
            anno.label(&s.label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        if s.spread == Spread::ErrorBars {
            chart.draw_series(pts.iter().map(|(x, p)| ErrorBar::new_vertical(*x, p.min, p.mean, p.max, color.stroke_width(1), 5))).map_err(plot_err)?;
            chart.draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 3, color.filled()))).map_err(plot_err)?;
        }
    }
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let drawn: Vec<(i32, i32)> = traced_points(panel).iter().map(|p| chart.backend_coord(p)).collect();
    let legend = legend_size(panel)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", LEGEND_FONT))
        .position(emptiest_corner((xs, ys), legend, &drawn))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// Legend text size in pixels.
const LEGEND_FONT: u32 = 12;

/// Points along everything a panel draws, in data coordinates: each series' mean line (ten
/// points per segment) and its min..max spread at every point.
fn traced_points(panel: &Panel) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for s in &panel.series {
        let pts: Vec<(f64, Stat)> = s.points.iter().copied().filter(|(_, p)| p.mean.is_finite()).collect();
        for w in pts.windows(2) {
            let ((x0, a), (x1, b)) = (w[0], w[1]);
            out.extend((0..10).map(|i| {
                let t = f64::from(i) / 10.0;
                (x0 + t * (x1 - x0), a.mean + t * (b.mean - a.mean))
            }));
        }
        for (x, p) in pts {
            out.extend([(x, p.mean), (x, p.min), (x, p.max)].into_iter().filter(|(_, y)| y.is_finite()));
        }
    }
    out
}

/// The legend box's size in pixels (approximately as plotters lays it out: a line sample, the
/// widest label, a row per series).
fn legend_size(panel: &Panel) -> Result<(i32, i32)> {
    let mut widest = 0;
    for s in &panel.series {
        widest = widest.max(text_width(&s.label, LEGEND_FONT)?);
    }
    Ok((widest as i32 + 45, 16 * panel.series.len() as i32 + 10))
}

/// Where the legend goes: the corner of the plotting area `(xs, ys)` (pixels) whose
/// legend-sized box covers the fewest of the `drawn` points, lower right on a tie (where every
/// figure put it before), so the legend hides as little of the data as it can.
fn emptiest_corner((xs, ys): (std::ops::Range<i32>, std::ops::Range<i32>), (w, h): (i32, i32), drawn: &[(i32, i32)]) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::LowerRight, xs.end - w, ys.end - h),
        (SeriesLabelPosition::UpperRight, xs.end - w, ys.start),
        (SeriesLabelPosition::LowerLeft, xs.start, ys.end - h),
        (SeriesLabelPosition::UpperLeft, xs.start, ys.start),
    ];
    let covered = |x0: i32, y0: i32| drawn.iter().filter(|(x, y)| (x0..x0 + w).contains(x) && (y0..y0 + h).contains(y)).count();
    // `min_by_key` keeps the first of equal minima: lower right on a tie.
    corners.into_iter().min_by_key(|&(_, x0, y0)| covered(x0, y0)).map_or(SeriesLabelPosition::LowerRight, |c| c.0)
}

/// Viridis at `v` in `[0, 1]` (five stops, linearly interpolated).
fn viridis(v: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let x = v.clamp(0.0, 1.0) * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn draw_heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, h: &Heatmap) -> Result<()> {
    let n = h.values.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(&h.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..n, n..0.0)
        .map_err(plot_err)?;
    // Whole-number ticks: at most eleven, so plotters picks integer steps.
    let ticks = (h.values.len() + 1).min(11);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(ticks)
        .y_labels(ticks)
        .x_desc(&h.x_label)
        .y_desc(&h.y_label)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .draw()
        .map_err(plot_err)?;
    let cells = h.values.iter().enumerate().flat_map(|(r, row)| {
        row.iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(move |(c, &v)| Rectangle::new([(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)], viridis(1.0 - v).filled()))
    });
    chart.draw_series(cells).map_err(plot_err)?;
    Ok(())
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::format_err!("drawing failed: {e:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_wider_than_the_figure_wraps_at_spaces_and_keeps_every_word() {
        register_font().unwrap();
        let line = "Reproduction of Yu, Edunov, Tian & Morcos (ICLR 2020), Figure 1 at scale `small`; seed 0; commit 6902b2fab3c1; test log perplexity; mean of trials, bars = min..max.";
        let text = format!("{line}\nshort line");
        let lines = wrap(&text, CAPTION_FONT, 500).unwrap();
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| text_width(l, CAPTION_FONT).unwrap() <= 500), "{lines:?}");
        assert_eq!(lines.last().unwrap(), "short line", "a line that fits is left as it is");
        let rejoined: Vec<&str> = lines[..lines.len() - 1].iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(rejoined, line.split_whitespace().collect::<Vec<_>>());
        assert!(lines[1].starts_with("  ") && !lines[0].starts_with(' '), "continuations are indented");
        assert_eq!(wrap(&text, CAPTION_FONT, 5000).unwrap(), vec![line, "short line"], "nothing wraps when all fits");
    }

    #[test]
    fn y_ticks_carry_the_decimals_their_step_needs_and_no_more() {
        assert_eq!(tick_decimals(52_000.0), 0, "iterations: whole numbers");
        assert_eq!(tick_decimals(12.0), 0);
        assert_eq!(tick_decimals(3.0), 1, "a few accuracy points in percent");
        assert_eq!(tick_decimals(0.13), 2, "accuracy as a fraction, 0.86 to 0.99");
        assert_eq!(tick_decimals(0.004), 4, "a flat loss");
        assert_eq!(tick_decimals(0.0), 2, "an empty panel falls back");
    }

    #[test]
    fn the_legend_goes_to_the_corner_hiding_the_fewest_points_lower_right_on_a_tie() {
        let area = (0..400, 0..300);
        let nothing: Vec<(i32, i32)> = Vec::new();
        assert!(matches!(emptiest_corner(area.clone(), (100, 50), &nothing), SeriesLabelPosition::LowerRight));
        // A curve falling to the lower right (as accuracy against weights remaining does).
        let falling: Vec<(i32, i32)> = (0..400).map(|x| (x, 20 + x * 7 / 10)).collect();
        assert!(matches!(emptiest_corner(area.clone(), (100, 50), &falling), SeriesLabelPosition::UpperRight));
        // A curve along the bottom and the top right: only the lower left is empty.
        let mut l: Vec<(i32, i32)> = (200..400).map(|x| (x, 290)).collect();
        l.extend((0..300).map(|y| (390, y)));
        l.extend((0..400).map(|x| (x, 5)));
        assert!(matches!(emptiest_corner(area, (100, 50), &l), SeriesLabelPosition::LowerLeft));
    }

    #[test]
    fn a_title_wider_than_the_figure_shrinks_until_it_fits() {
        register_font().unwrap();
        let title = "LSTM language model, winning vs random tickets and ablations";
        assert_eq!(fitting_size(title, TITLE_FONT, 5000).unwrap(), TITLE_FONT);
        let size = fitting_size(title, TITLE_FONT, 500).unwrap();
        assert!((MIN_TITLE_FONT..TITLE_FONT).contains(&size) && text_width(title, size).unwrap() <= 500, "{size}");
        assert_eq!(fitting_size(title, TITLE_FONT, 50).unwrap(), MIN_TITLE_FONT, "the floor when nothing fits");
    }
}
