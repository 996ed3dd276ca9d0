//! A chart's SVG rasterised to PNG on the server with resvg (the browser never does it).

use std::sync::{Arc, LazyLock};

use resvg::{tiny_skia, usvg};

/// The system's fonts, read once; charts name the generic `sans-serif` family.
static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut db = usvg::fontdb::Database::new();
    db.load_system_fonts();
    // fontdb maps `sans-serif` to Arial, which Linux hosts rarely have; prefer a common free one.
    for family in ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans"] {
        if db
            .faces()
            .any(|f| f.families.iter().any(|(name, _)| name == family))
        {
            db.set_sans_serif_family(family);
            break;
        }
    }
    if db.is_empty() {
        tracing::warn!(
            "no system fonts found: PNG charts will have no text (install fonts-dejavu-core)"
        );
    }
    Arc::new(db)
});

/// Twice the SVG's size, so the PNG stays sharp on high-density screens.
const SCALE: f32 = 2.0;

/// The PNG of an SVG made by `chart::svg`, on a white background.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: FONTS.clone(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| format!("the chart's SVG could not be read: {e}"))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(SCALE)
        .ok_or("the chart has no size")?;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the chart is too large")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("the PNG could not be written: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_becomes_a_png_of_twice_its_size() {
        let svg = super::super::chart::svg(&super::super::chart::ChartData {
            title: "Memory".into(),
            unit: super::super::chart::Unit::Memory,
            body: super::super::chart::Body::Bars(vec![("web".into(), 1e9)]),
            empty: "No data".into(),
            note: None,
        });
        let png = super::png(&svg).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((width, height), (1280, 520));
    }
}
