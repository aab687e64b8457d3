//! The platform's face on the hosted connect pages: name, logo, accent colour, support and home
//! links (`LATCHKEY_CONNECT_*`). A connect session may override the name, colour and support
//! link, and set the language.

use clap::Args;
use serde::{Deserialize, Serialize};

use super::non_empty;

#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct BrandSettings {
    /// The platform's name on the connect pages ("Acme uses this page to connect your accounts",
    /// "Back to Acme"). At most 80 characters.
    #[arg(long, env = "LATCHKEY_CONNECT_PLATFORM_NAME", value_name = "NAME")]
    pub connect_platform_name: Option<String>,
    /// The platform's logo (PNG, JPEG, WebP, GIF or SVG, at most 256 KiB), fetched once at
    /// start and served by Latchkey from its own origin. An SVG with scripts, event handlers
    /// or outside references is refused.
    #[arg(long, env = "LATCHKEY_CONNECT_LOGO_URL", value_name = "URL")]
    pub connect_logo_url: Option<String>,
    /// The buttons' colour on the connect pages, #rrggbb. Default #1d4ed8.
    #[arg(long, env = "LATCHKEY_CONNECT_ACCENT_COLOR", value_name = "COLOUR")]
    pub connect_accent_color: Option<String>,
    /// Where a customer asks for help: an https: or mailto: URL, linked on every page.
    #[arg(long, env = "LATCHKEY_CONNECT_SUPPORT_URL", value_name = "URL")]
    pub connect_support_url: Option<String>,
    /// Where "Back to <platform>" leads when a session's return URL is not known (an expired or
    /// used link): the platform's https URL.
    #[arg(long, env = "LATCHKEY_CONNECT_HOME_URL", value_name = "URL")]
    pub connect_home_url: Option<String>,
}

/// The brand's settings, checked.
#[derive(Debug, Clone, Default)]
pub struct BrandConfig {
    pub name: Option<String>,
    pub logo_url: Option<url::Url>,
    pub accent: Option<String>,
    pub support_url: Option<String>,
    pub home_url: Option<String>,
}

impl BrandSettings {
    pub(super) fn resolve(self, errors: &mut Vec<String>) -> BrandConfig {
        let appearance = latchkey_domain::session::Appearance {
            locale: None,
            platform_name: non_empty(self.connect_platform_name),
            accent_color: non_empty(self.connect_accent_color),
            support_url: non_empty(self.connect_support_url),
        };
        let checked = appearance.clone().checked().unwrap_or_else(|violation| {
            let setting = match violation.field.as_str() {
                "appearance.platform_name" => {
                    "LATCHKEY_CONNECT_PLATFORM_NAME (--connect-platform-name)"
                }
                "appearance.accent_color" => {
                    "LATCHKEY_CONNECT_ACCENT_COLOR (--connect-accent-color)"
                }
                _ => "LATCHKEY_CONNECT_SUPPORT_URL (--connect-support-url)",
            };
            errors.push(format!("{setting}: {}", violation.reason));
            None
        });
        let url = |value: Option<String>, setting: &str, errors: &mut Vec<String>| {
            let value = non_empty(value)?;
            match url::Url::parse(value.trim()) {
                Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => {
                    Some(url)
                }
                _ => {
                    errors.push(format!(
                        "{setting}: {value:?} is not an absolute http(s) URL"
                    ));
                    None
                }
            }
        };
        let logo_url = url(
            self.connect_logo_url,
            "LATCHKEY_CONNECT_LOGO_URL (--connect-logo-url)",
            errors,
        );
        let home_url = url(
            self.connect_home_url,
            "LATCHKEY_CONNECT_HOME_URL (--connect-home-url)",
            errors,
        );
        let checked = checked.unwrap_or_default();
        BrandConfig {
            name: checked.platform_name,
            logo_url,
            accent: checked.accent_color,
            support_url: checked.support_url,
            home_url: home_url.map(String::from),
        }
    }
}
