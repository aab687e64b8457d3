// Original file: proto/latchkey/v1/integration.proto

import type { WebhookKind as _latchkey_v1_WebhookKind, WebhookKind__Output as _latchkey_v1_WebhookKind__Output } from '../../latchkey/v1/WebhookKind';

export interface WebhookScheme {
  'kind'?: (_latchkey_v1_WebhookKind);
  'signature_header'?: (string);
  'prefix'?: (string);
  'encoding'?: (string);
  'timestamp_header'?: (string);
  'template'?: (string);
  'tolerance_secs'?: (number);
  'account_pointer'?: (string);
  'algorithm'?: (string);
  'token_from'?: (string);
  'audience'?: (string);
  'jwks_url'?: (string);
}

export interface WebhookScheme__Output {
  'kind': (_latchkey_v1_WebhookKind__Output);
  'signature_header': (string);
  'prefix': (string);
  'encoding': (string);
  'timestamp_header': (string);
  'template': (string);
  'tolerance_secs': (number);
  'account_pointer': (string);
  'algorithm': (string);
  'token_from': (string);
  'audience': (string);
  'jwks_url': (string);
}
