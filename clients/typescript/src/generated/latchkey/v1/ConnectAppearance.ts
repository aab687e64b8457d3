// Original file: proto/latchkey/v1/connection.proto


export interface ConnectAppearance {
  'locale'?: (string);
  'platform_name'?: (string);
  'accent_color'?: (string);
  'support_url'?: (string);
}

export interface ConnectAppearance__Output {
  'locale': (string);
  'platform_name': (string);
  'accent_color': (string);
  'support_url': (string);
}
