//! Charts as inline SVG, drawn on the server: no script, no library, nothing fetched. Each
//! chart has a title, a legend and labelled axes, and carries its numbers in `<title>`
//! tooltips so a screen reader (or a curious manager) can read them.

use maud::{Markup, html};

/// Distinct, colour-blind friendly series colours (Okabe–Ito).
pub const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#666666",
];

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

fn round(v: f64) -> String {
    format!("{v:.1}")
}

/// The top of a count axis with four gridlines: four times a round step (1, 2 or 5 × 10ⁿ,
/// at least 1), so every gridline is a whole, round number.
fn nice_max(v: f64) -> f64 {
    let quarter = (v / 4.0).max(1.0);
    let mag = 10f64.powf(quarter.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|s| s * mag)
        .find(|s| *s >= quarter)
        .unwrap_or(10.0 * mag);
    step * 4.0
}

fn legend(names: &[String]) -> Markup {
    html! {
        ul.legend {
            @for (i, n) in names.iter().enumerate() {
                li {
                    svg width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(PALETTE[i % PALETTE.len()]) {} }
                    " " (n)
                }
            }
        }
    }
}

/// Stacked bars over time buckets: one bar per bucket, one colour per series.
pub fn stacked(title: &str, buckets: &[String], series: &[(String, Vec<i64>)]) -> Markup {
    let totals: Vec<i64> = (0..buckets.len())
        .map(|i| {
            series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = nice_max(totals.iter().copied().max().unwrap_or(0) as f64);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = buckets.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.8).max(1.0);
    let every = (buckets.len() / 8).max(1);
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    // Each bucket's segments, bottom up: (x, y, height, colour, tooltip).
    let mut segments = Vec::new();
    for (i, label) in buckets.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = TOP + plot_h;
        for (s, (name, values)) in series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0);
            if v > 0 {
                let h = plot_h * v as f64 / max;
                y -= h;
                segments.push((
                    x,
                    y,
                    h,
                    PALETTE[s % PALETTE.len()],
                    format!("{label} · {name}: {v}"),
                ));
            }
        }
    }
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
                (axis(max, plot_h))
                @for (x, y, h, colour, tip) in &segments {
                    rect x=(round(*x)) y=(round(*y)) width=(round(bar)) height=(round(*h)) fill=(colour) {
                        title { (tip) }
                    }
                }
                @for (i, label) in buckets.iter().enumerate() {
                    @if i % every == 0 {
                        text.tick x=(round(LEFT + slot * i as f64 + slot / 2.0)) y=(round(H - 10.0)) text-anchor="middle" { (label) }
                    }
                }
            }
            (legend(&names))
        }
    }
}

fn axis(max: f64, plot_h: f64) -> Markup {
    html! {
        @for k in 0..=4 {
            @let v = max * k as f64 / 4.0;
            @let y = TOP + plot_h - plot_h * k as f64 / 4.0;
            line.grid x1=(LEFT) x2=(W - RIGHT) y1=(round(y)) y2=(round(y)) {}
            text.tick x=(LEFT - 4.0) y=(round(y + 4.0)) text-anchor="end" { (format_num(v)) }
        }
    }
}

fn format_num(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A line over time buckets on a fixed range (sentiment: −1..1), with the zero line drawn.
pub fn line(title: &str, buckets: &[String], values: &[Option<f64>], lo: f64, hi: f64) -> Markup {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = buckets.len().max(1) as f64;
    let slot = plot_w / n;
    let y_of = |v: f64| TOP + plot_h - plot_h * ((v.clamp(lo, hi) - lo) / (hi - lo));
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                format!(
                    "{},{}",
                    round(LEFT + slot * (i as f64 + 0.5)),
                    round(y_of(v))
                )
            })
        })
        .collect();
    let every = (buckets.len() / 8).max(1);
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
                @for v in [lo, (lo + hi) / 2.0, hi] {
                    line.grid x1=(LEFT) x2=(W - RIGHT) y1=(round(y_of(v))) y2=(round(y_of(v))) {}
                    text.tick x=(LEFT - 4.0) y=(round(y_of(v) + 4.0)) text-anchor="end" { (format!("{v:+.1}")) }
                }
                polyline points=(points.join(" ")) fill="none" stroke=(PALETTE[0]) stroke-width="2" {}
                @for (i, v) in values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle cx=(round(LEFT + slot * (i as f64 + 0.5))) cy=(round(y_of(*v))) r="3" fill=(PALETTE[0]) {
                            title { (buckets.get(i).map_or("", String::as_str)) ": " (format!("{v:+.2}")) }
                        }
                    }
                }
                @for (i, label) in buckets.iter().enumerate() {
                    @if i % every == 0 {
                        text.tick x=(round(LEFT + slot * (i as f64 + 0.5))) y=(round(H - 10.0)) text-anchor="middle" { (label) }
                    }
                }
            }
        }
    }
}

/// Horizontal bars: one per item, its value against `max`, with a text beside it.
pub fn hbars(title: &str, items: &[(String, f64, String)], max: f64) -> Markup {
    let row = 26.0;
    let h = row * items.len().max(1) as f64 + 8.0;
    let label_w = 150.0;
    let plot_w = W - label_w - 120.0;
    let max = if max > 0.0 { max } else { 1.0 };
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox={ "0 0 " (W) " " (round(h)) } role="img" aria-label=(title) {
                @for (i, (name, value, text)) in items.iter().enumerate() {
                    @let y = 4.0 + row * i as f64;
                    text.tick x=(label_w - 6.0) y=(round(y + 15.0)) text-anchor="end" { (name) }
                    rect.track x=(label_w) y=(round(y + 3.0)) width=(round(plot_w)) height="16" {}
                    rect x=(label_w) y=(round(y + 3.0)) width=(round(plot_w * (value / max).clamp(0.0, 1.0))) height="16" fill=(PALETTE[i % PALETTE.len()]) {
                        title { (name) ": " (text) }
                    }
                    text.value x=(round(label_w + plot_w + 6.0)) y=(round(y + 15.0)) { (text) }
                }
            }
        }
    }
}

/// A small sentiment line (−1..1) for the customer panel.
pub fn sparkline(points: &[(i64, f64)]) -> Markup {
    if points.is_empty() {
        return html! { p.muted { "No scored messages yet" } };
    }
    let (w, h) = (240.0, 48.0);
    let (t0, t1) = (
        points.first().map_or(0, |p| p.0),
        points.last().map_or(0, |p| p.0),
    );
    let span = (t1 - t0).max(1) as f64;
    let x_of = |t: i64| {
        if points.len() == 1 {
            w / 2.0
        } else {
            4.0 + (w - 8.0) * (t - t0) as f64 / span
        }
    };
    let y_of = |v: f64| 4.0 + (h - 8.0) * (1.0 - (v.clamp(-1.0, 1.0) + 1.0) / 2.0);
    let pts: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{},{}", round(x_of(*t)), round(y_of(*v))))
        .collect();
    html! {
        svg.spark viewBox={ "0 0 " (w) " " (h) } role="img" aria-label="Sentiment over time" {
            line.grid x1="0" x2=(w) y1=(round(y_of(0.0))) y2=(round(y_of(0.0))) {}
            polyline points=(pts.join(" ")) fill="none" stroke=(PALETTE[0]) stroke-width="2" {}
            @for (t, v) in points {
                circle cx=(round(x_of(*t))) cy=(round(y_of(*v))) r="2.5" fill=(if *v < -0.05 { PALETTE[5] } else if *v > 0.05 { PALETTE[2] } else { PALETTE[7] }) {
                    title { (format!("{v:+.2}")) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 4.0);
        assert_eq!(nice_max(3.0), 4.0);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(nice_max(2_400.0), 4_000.0);
    }

    #[test]
    fn a_stacked_chart_draws_one_rectangle_per_nonzero_value_with_its_number() {
        let svg = stacked(
            "Volume",
            &["10:00".into(), "11:00".into()],
            &[("x".into(), vec![3, 0]), ("<email>".into(), vec![1, 2])],
        )
        .into_string();
        assert_eq!(svg.matches("<rect x=").count(), 3, "{svg}");
        assert!(svg.contains("10:00 · x: 3"));
        assert!(svg.contains("&lt;email&gt;"), "labels are escaped");
    }
}
