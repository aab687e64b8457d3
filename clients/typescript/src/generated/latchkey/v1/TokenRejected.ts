// Original file: proto/latchkey/v1/audit.proto

import type { Long } from '@grpc/proto-loader';

export interface TokenRejected {
  'http_status'?: (number);
  'provider_error'?: (string);
  'token_version'?: (number | string | Long);
  'verdict'?: (string);
}

export interface TokenRejected__Output {
  'http_status': (number);
  'provider_error': (string);
  'token_version': (number);
  'verdict': (string);
}
