//! How the connect pages look to a customer: the platform's name, logo, accent colour and
//! support link (settings, overridden per connect session), in the customer's language (the
//! session's `locale`, else the browser's `Accept-Language`), from Project Fluent catalogs in
//! English, German, French, Spanish and Japanese. A request's look is set once by a middleware
//! and refined when its session is read; the pages read it where they render.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use crate::public_state::{Brand, HttpState, Logo};

/// The languages the pages speak, English first (the fallback).
pub const LOCALES: [&str; 5] = ["en", "de", "fr", "es", "ja"];

/// Each language's catalog, in the order of [`LOCALES`].
pub const SOURCES: [&str; 5] = [
    include_str!("../../i18n/en.ftl"),
    include_str!("../../i18n/de.ftl"),
    include_str!("../../i18n/fr.ftl"),
    include_str!("../../i18n/es.ftl"),
    include_str!("../../i18n/ja.ftl"),
];

static CATALOGS: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    LOCALES
        .iter()
        .zip(SOURCES)
        .map(|(tag, source)| {
            let language = tag.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![language]);
            // Plain text into HTML: no Unicode isolation marks around arguments.
            bundle.set_use_isolating(false);
            let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, e)| {
                tracing::error!(locale = tag, errors = ?e, "a connect-page catalog has errors");
                r
            });
            if let Err(e) = bundle.add_resource(resource) {
                tracing::error!(locale = tag, errors = ?e, "a connect-page catalog repeats keys");
            }
            bundle
        })
        .collect()
});

/// A customer's view of a page: their language and the platform's brand.
#[derive(Debug, Clone, Default)]
pub struct Look {
    locale: usize,
    pub brand: Arc<Brand>,
    /// Where the session sends the browser back (its return URL), once known.
    pub return_url: Option<String>,
}

tokio::task_local! {
    static LOOK: RefCell<Look>;
}

/// The look of the request being answered (English and no brand outside a request).
pub fn current() -> Look {
    LOOK.try_with(|look| look.borrow().clone())
        .unwrap_or_default()
}

/// What a session says of its look: its locale and brand override, its return URL.
pub fn refine(appearance: Option<&latchkey_domain::session::Appearance>, return_url: Option<&str>) {
    let _ = LOOK.try_with(|look| {
        let mut look = look.borrow_mut();
        if let Some(appearance) = appearance {
            if let Some(locale) = appearance.locale.as_deref().and_then(locale_index) {
                look.locale = locale;
            }
            let mut brand = (*look.brand).clone();
            if appearance.platform_name.is_some() {
                brand.name = appearance.platform_name.clone();
            }
            if appearance.accent_color.is_some() {
                brand.accent = appearance.accent_color.clone();
            }
            if appearance.support_url.is_some() {
                brand.support_url = appearance.support_url.clone();
            }
            look.brand = Arc::new(brand);
        }
        if return_url.is_some() {
            look.return_url = return_url.map(str::to_owned);
        }
    });
}

/// Sets the look of each connect-page request (the settings' brand, the browser's language).
pub async fn middleware(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let look = Look {
        locale: negotiate(request.headers()),
        brand: state.brand.clone(),
        return_url: None,
    };
    LOOK.scope(RefCell::new(look), next.run(request)).await
}

fn locale_index(tag: &str) -> Option<usize> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    LOCALES.iter().position(|l| *l == primary)
}

/// The best of [`LOCALES`] for an `Accept-Language` header (by its weights), else English.
fn negotiate(headers: &HeaderMap) -> usize {
    let Some(header) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return 0;
    };
    let mut ranked: Vec<(f32, usize)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            Some((weight, locale_index(tag)?))
        })
        .filter(|(weight, _)| *weight > 0.0)
        .collect();
    // Stable: equal weights keep the header's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map_or(0, |(_, locale)| *locale)
}

impl Look {
    /// The page's language tag (`<html lang>`).
    pub fn lang(&self) -> &'static str {
        LOCALES[self.locale]
    }

    /// A message of the customer's catalog (English when it lacks one).
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.to_owned());
        self.format(key, Some(&args))
    }

    /// A message with two arguments.
    pub fn t2(&self, key: &str, first: &str, value: &str, second: &str, other: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(first.to_owned(), value.to_owned());
        args.set(second.to_owned(), other.to_owned());
        self.format(key, Some(&args))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        for locale in [self.locale, 0] {
            let bundle = &CATALOGS[locale];
            if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned();
            }
        }
        key.to_owned()
    }

    /// The platform's name, if set.
    pub fn platform(&self) -> Option<&str> {
        self.brand.name.as_deref()
    }

    /// "Need help? Contact Acme support." (or without a name).
    pub fn support_text(&self) -> String {
        match self.platform() {
            Some(name) => self.t1("support", "platform", name),
            None => self.t("support-plain"),
        }
    }

    /// Where "Back to the platform" leads: the session's return URL, else the home URL.
    pub fn back_url(&self) -> Option<&str> {
        self.return_url
            .as_deref()
            .or(self.brand.home_url.as_deref())
    }

    /// "Back to Acme" (or "Go back").
    pub fn back_text(&self) -> String {
        match self.platform() {
            Some(name) => self.t1("back-to", "platform", name),
            None => self.t("back"),
        }
    }

    /// The stylesheet with the accent colour (`/connect/assets/theme.css?accent=rrggbb`).
    pub fn theme_href(&self) -> String {
        match self
            .brand
            .accent
            .as_deref()
            .and_then(|a| a.strip_prefix('#'))
        {
            Some(hex) => format!("/connect/assets/theme.css?accent={hex}"),
            None => "/connect/assets/theme.css".to_owned(),
        }
    }

    pub fn has_logo(&self) -> bool {
        self.brand.logo.is_some()
    }
}

/// Whether a colour is `#rrggbb`.
pub fn is_hex_colour(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The accent's stylesheet: the colour and, on it, black or white, whichever reads better
/// (WCAG contrast), in light and dark mode alike.
pub async fn theme(
    State(state): State<HttpState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let asked = query
        .get("accent")
        .map(|hex| format!("#{hex}"))
        .filter(|c| is_hex_colour(c));
    let accent = asked
        .or_else(|| state.brand.accent.clone())
        .unwrap_or_else(|| "#1d4ed8".to_owned());
    let on_accent = if contrast_with_white(&accent) >= 4.5 {
        "#ffffff"
    } else {
        "#111111"
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        format!(":root {{ --accent: {accent}; --on-accent: {on_accent}; }}\n"),
    )
        .into_response()
}

/// The contrast ratio of white text on `#rrggbb`.
fn contrast_with_white(colour: &str) -> f64 {
    let channel = |i: usize| {
        let value = u8::from_str_radix(&colour[i..i + 2], 16).unwrap_or(0);
        let c = f64::from(value) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    1.05 / (luminance + 0.05)
}

/// The platform's logo, as fetched at start.
pub async fn logo(State(state): State<HttpState>) -> Response {
    match &state.brand.logo {
        Some(logo) => (
            [
                (header::CONTENT_TYPE, logo.content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                // An SVG opened on its own runs nothing and loads nothing.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'",
                ),
            ],
            logo.bytes.clone(),
        )
            .into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// A provider's mark: its initial in a circle of a colour drawn from its name (made here: no
/// provider's logo is copied). White on each colour reads at 4.5:1 or better.
pub fn mark(name: &str) -> String {
    const COLOURS: [&str; 8] = [
        "#1d4ed8", "#047857", "#b91c1c", "#7c3aed", "#b45309", "#0e7490", "#be185d", "#4d7c0f",
    ];
    let initial = name
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_else(|| "•".to_owned());
    let initial: String = initial
        .chars()
        .map(|c| match c {
            '<' | '>' | '&' | '"' | '\'' => '•',
            c => c,
        })
        .collect();
    let hash = name.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let colour = COLOURS[hash % COLOURS.len()];
    format!(
        "<svg class=\"mark\" viewBox=\"0 0 40 40\" width=\"40\" height=\"40\" aria-hidden=\"true\" \
         focusable=\"false\"><circle cx=\"20\" cy=\"20\" r=\"20\" fill=\"{colour}\"/><text x=\"20\" \
         y=\"26\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"700\" fill=\"#ffffff\" \
         font-family=\"system-ui, sans-serif\">{initial}</text></svg>"
    )
}

/// Each catalog's keys, for the test that every key exists in every catalog.
#[cfg(test)]
fn catalog_keys() -> Vec<(&'static str, Vec<String>)> {
    LOCALES
        .iter()
        .zip(SOURCES)
        .map(|(locale, source)| {
            let keys = source
                .lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
                .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
                .collect();
            (*locale, keys)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_in_every_catalog_and_each_parses() {
        let catalogs = catalog_keys();
        let english: std::collections::BTreeSet<&String> = catalogs[0].1.iter().collect();
        assert!(english.len() > 40);
        for (locale, keys) in &catalogs {
            let these: std::collections::BTreeSet<&String> = keys.iter().collect();
            assert_eq!(these, english, "{locale} differs from en");
            assert_eq!(keys.len(), these.len(), "{locale} repeats a key");
        }
        for (i, source) in SOURCES.iter().enumerate() {
            assert!(
                FluentResource::try_new((*source).to_owned()).is_ok(),
                "{} does not parse",
                LOCALES[i]
            );
        }
        let german = Look {
            locale: 1,
            ..Look::default()
        };
        assert_eq!(
            german.t1("connect-to", "name", "Shopify"),
            "Mit Shopify verbinden"
        );
    }

    #[test]
    fn the_language_is_the_best_weighted_one_the_pages_speak() {
        let pick = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, value.parse().unwrap());
            LOCALES[negotiate(&headers)]
        };
        assert_eq!(pick("de-DE,de;q=0.9,en;q=0.8"), "de");
        assert_eq!(pick("nl-NL,fr;q=0.5,en;q=0.4"), "fr");
        assert_eq!(pick("en;q=0.1,ja;q=0.9"), "ja");
        assert_eq!(pick("pt-BR"), "en");
        assert_eq!(pick("es;q=0"), "en");
    }

    #[test]
    fn text_on_the_accent_reads_well_and_marks_are_made_here() {
        assert!(contrast_with_white("#1d4ed8") >= 4.5);
        assert!(contrast_with_white("#fde047") < 4.5);
        assert!(is_hex_colour("#0f766e") && !is_hex_colour("red") && !is_hex_colour("#12345g"));
        let svg = mark("<script>");
        assert!(!svg.contains("<script") && svg.contains("S</text>"));
        assert!(mark("Shopify").contains(">S</text>"));
    }
}

/// The largest logo served.
const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The brand of the settings, its logo fetched (once, at start). A logo that cannot be fetched
/// or is refused is said in the log and left out: the pages serve without it.
pub async fn load_brand(config: &crate::config::BrandConfig, allow_loopback: bool) -> Brand {
    let logo = match &config.logo_url {
        None => None,
        Some(url) => match fetch_logo(url, allow_loopback).await {
            Ok(logo) => Some(Arc::new(logo)),
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "LATCHKEY_CONNECT_LOGO_URL: the logo is left out");
                None
            }
        },
    };
    Brand {
        name: config.name.clone(),
        accent: config.accent.clone(),
        support_url: config.support_url.clone(),
        home_url: config.home_url.clone(),
        logo,
    }
}

async fn fetch_logo(url: &url::Url, allow_loopback: bool) -> Result<Logo, String> {
    // The providers' guarded client: https only (loopback http in development), no private
    // address, no redirect, the body read within the limit.
    let client = latchkey_oauth::ProviderClient::new(latchkey_oauth::HttpPolicy {
        allow_loopback,
        timeout: std::time::Duration::from_secs(5),
        max_body_bytes: MAX_LOGO_BYTES,
        ..latchkey_oauth::HttpPolicy::default()
    })
    .map_err(|e| e.to_string())?;
    let response = client.get(url).await.map_err(|e| e.to_string())?;
    if !(200..300).contains(&response.status) {
        return Err(format!("answered {}", response.status));
    }
    let content_type = image_type(&response.body)?;
    Ok(Logo {
        bytes: response.body,
        content_type,
    })
}

/// The image's type from its first bytes (not from what the server said); an SVG only when it
/// holds nothing that runs or loads: no script, no event handler, no outside reference.
fn image_type(bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok("image/jpeg");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok("image/gif");
    }
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok("image/webp");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not a PNG, JPEG, GIF, WebP or SVG image")?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<svg") {
        return Err("not a PNG, JPEG, GIF, WebP or SVG image".to_owned());
    }
    let handler = regex_free_handler(&lower);
    for refused in [
        "<script",
        "javascript:",
        "<foreignobject",
        "<iframe",
        "<!entity",
        "@import",
    ] {
        if lower.contains(refused) {
            return Err(format!("an SVG holding {refused:?} is refused"));
        }
    }
    if handler {
        return Err("an SVG with event handlers (on…=) is refused".to_owned());
    }
    if lower.contains("href=\"http") || lower.contains("href='http") || lower.contains("url(http") {
        return Err("an SVG that loads from outside is refused".to_owned());
    }
    Ok("image/svg+xml")
}

/// Whether an attribute named `on…` appears (an event handler).
fn regex_free_handler(lower: &str) -> bool {
    lower.match_indices("on").any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after: String = lower[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let rest = &lower[i + 2 + after.len()..];
        before.is_some_and(char::is_whitespace)
            && !after.is_empty()
            && rest.trim_start().starts_with('=')
    })
}

#[cfg(test)]
mod logo_tests {
    use super::image_type;

    #[test]
    fn logos_are_known_images_and_svgs_that_run_or_load_nothing() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Ok("image/png"));
        assert_eq!(
            image_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"4\"/></svg>"),
            Ok("image/svg+xml")
        );
        for bad in [
            &b"<svg><script>alert(1)</script></svg>"[..],
            b"<svg onload=\"alert(1)\"></svg>",
            b"<svg><image href=\"https://evil.example/x.png\"/></svg>",
            b"<svg><a href=\"javascript:alert(1)\">x</a></svg>",
            b"<html>not an image</html>",
        ] {
            assert!(image_type(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
