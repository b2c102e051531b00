//! Colour conversions between Zigbee's colour spaces and sRGB.
//!
//! Zigbee lights report colour as CIE 1931 `xy` chromaticity (ZCL Color Control
//! cluster `CurrentX`/`CurrentY`, published by Zigbee2MQTT as `color.x`/`color.y`)
//! or as hue/saturation (`color.hue` 0–360°, `color.saturation` 0–100 %).
//! Igloo's `Color` component is sRGB, 8 bits per channel, and carries no
//! brightness (that is the `Brightness` component), so both conversions return
//! the colour at full brightness: the largest channel is 255.
//!
//! The xy conversion uses the sRGB primaries and D65 white point of
//! IEC 61966-2-1 (the XYZ → linear sRGB matrix and the sRGB transfer function).
//! Chromaticities outside the sRGB gamut are clipped (negative channels become 0).

use igloo_provider::protocol::Color;

/// XYZ → linear sRGB, IEC 61966-2-1 (D65).
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.2406, -1.5372, -0.4986],
    [-0.9689, 1.8758, 0.0415],
    [0.0557, -0.2040, 1.0570],
];

/// CIE 1931 `(x, y)` chromaticity → sRGB at full brightness.
///
/// `None` when the point is not a chromaticity: non-finite, `y <= 0`, `x < 0`
/// or `x + y > 1` (by more than rounding noise).
pub fn xy_to_rgb(x: f64, y: f64) -> Option<Color> {
    if !x.is_finite() || !y.is_finite() || y <= 0.0 || x < 0.0 || x + y > 1.0 + 1e-6 {
        return None;
    }
    // xyY with Y = 1 → XYZ.
    let xyz = [x / y, 1.0, (1.0 - x - y).max(0.0) / y];
    let mut rgb =
        XYZ_TO_RGB.map(|row| (row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2]).max(0.0));
    // With Y = 1 and no negative channel the largest channel is >= 1; scale to
    // full brightness so only the chromaticity is kept.
    let max = rgb.iter().copied().fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return None;
    }
    for c in &mut rgb {
        *c /= max;
    }
    Some(Color {
        r: encode(rgb[0]),
        g: encode(rgb[1]),
        b: encode(rgb[2]),
    })
}

/// Hue (degrees, any value; taken modulo 360) and saturation (0–100 %,
/// clamped) → sRGB at full brightness (HSV with V = 100 %), as Zigbee2MQTT's
/// `color_hs` is defined over sRGB.
///
/// `None` when either input is not finite.
pub fn hs_to_rgb(hue: f64, saturation: f64) -> Option<Color> {
    if !hue.is_finite() || !saturation.is_finite() {
        return None;
    }
    let h = hue.rem_euclid(360.0) / 60.0;
    let s = (saturation / 100.0).clamp(0.0, 1.0);
    let c = s; // chroma at V = 1
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let m = 1.0 - c;
    let (r, g, b) = match h as u8 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to8 = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    Some(Color {
        r: to8(r),
        g: to8(g),
        b: to8(b),
    })
}

/// sRGB → hue (degrees, 0–360) and saturation (0–100 %), the inverse of
/// [`hs_to_rgb`] at full brightness.
pub fn rgb_to_hs(c: Color) -> (f64, f64) {
    let [r, g, b] = [c.r, c.g, c.b].map(|v| f64::from(v) / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    if max <= 0.0 || d <= 0.0 {
        return (0.0, 0.0);
    }
    let h = if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, d / max * 100.0)
}

/// sRGB → CIE 1931 `(x, y)` (IEC 61966-2-1 matrix, D65); black gives the white point.
pub fn rgb_to_xy(c: Color) -> (f64, f64) {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.040_45 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(c.r), lin(c.g), lin(c.b));
    let x = 0.4124 * r + 0.3576 * g + 0.1805 * b;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
    let sum = x + y + z;
    if sum <= 0.0 {
        return (0.3127, 0.3290);
    }
    (x / sum, y / sum)
}

/// Linear 0–1 → sRGB-encoded 0–255 (IEC 61966-2-1 transfer function).
fn encode(linear: f64) -> u8 {
    let v = linear.clamp(0.0, 1.0);
    let s = if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(r: u8, g: u8, b: u8) -> Option<Color> {
        Some(Color { r, g, b })
    }

    #[test]
    fn srgb_primaries_and_white_point() {
        // The sRGB primaries and D65 white as defined by IEC 61966-2-1.
        assert_eq!(xy_to_rgb(0.64, 0.33), rgb(255, 0, 0));
        assert_eq!(xy_to_rgb(0.30, 0.60), rgb(0, 255, 0));
        assert_eq!(xy_to_rgb(0.15, 0.06), rgb(0, 0, 255));
        assert_eq!(xy_to_rgb(0.3127, 0.3290), rgb(255, 255, 255));
    }

    #[test]
    fn typical_bulb_colours() {
        // Reference values computed independently (Python, same IEC matrix and
        // transfer function, scaled to full brightness).
        // Warm white as reported by a Hue bulb at 2700 K.
        assert_eq!(xy_to_rgb(0.4596, 0.4105), rgb(255, 173, 89));
        assert_eq!(xy_to_rgb(0.5, 0.4), rgb(255, 145, 66));
        // Hue "red" outside the sRGB gamut: clipped.
        assert_eq!(xy_to_rgb(0.701, 0.299), rgb(255, 0, 0));
        // sRGB yellow (255,255,0) is x=0.4193 y=0.5053.
        assert_eq!(xy_to_rgb(0.4193, 0.5053), rgb(255, 255, 0));
    }

    #[test]
    fn invalid_chromaticities() {
        assert_eq!(xy_to_rgb(0.3, 0.0), None);
        assert_eq!(xy_to_rgb(-0.1, 0.3), None);
        assert_eq!(xy_to_rgb(0.7, 0.6), None);
        assert_eq!(xy_to_rgb(f64::NAN, 0.3), None);
    }

    #[test]
    fn rgb_back_to_hs_and_xy() {
        let red = Color { r: 255, g: 0, b: 0 };
        assert_eq!(rgb_to_hs(red), (0.0, 100.0));
        let (h, s) = rgb_to_hs(Color {
            r: 255,
            g: 191,
            b: 128,
        });
        assert_eq!(hs_to_rgb(h, s), rgb(255, 191, 128));
        let (x, y) = rgb_to_xy(red);
        assert!(
            (x - 0.64).abs() < 1e-3 && (y - 0.33).abs() < 1e-3,
            "{x} {y}"
        );
        let (x, y) = rgb_to_xy(Color {
            r: 255,
            g: 255,
            b: 0,
        });
        assert_eq!(xy_to_rgb(x, y), rgb(255, 255, 0));
    }

    #[test]
    fn hue_saturation() {
        assert_eq!(hs_to_rgb(0.0, 100.0), rgb(255, 0, 0));
        assert_eq!(hs_to_rgb(120.0, 100.0), rgb(0, 255, 0));
        assert_eq!(hs_to_rgb(240.0, 100.0), rgb(0, 0, 255));
        assert_eq!(hs_to_rgb(360.0, 100.0), rgb(255, 0, 0));
        assert_eq!(hs_to_rgb(30.0, 50.0), rgb(255, 191, 128));
        assert_eq!(hs_to_rgb(200.0, 0.0), rgb(255, 255, 255));
        assert_eq!(hs_to_rgb(-60.0, 100.0), rgb(255, 0, 255));
        assert_eq!(hs_to_rgb(0.0, f64::INFINITY), None);
    }
}
