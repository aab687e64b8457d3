// Original file: proto/latchkey/v1/connection.proto

import type { Long } from '@grpc/proto-loader';

export interface ReportTokenRejectedRequest {
  'connection_id'?: (string);
  'http_status'?: (number);
  'provider_error'?: (string);
  'token_version'?: (number | string | Long);
}

export interface ReportTokenRejectedRequest__Output {
  'connection_id': (string);
  'http_status': (number);
  'provider_error': (string);
  'token_version': (number);
}
