// Original file: proto/latchkey/v1/audit.proto

import type { Long } from '@grpc/proto-loader';

export interface GetHistoryRequest {
  'connection_id'?: (string);
  'from_version'?: (number | string | Long);
  'integration_id'?: (string);
  'system_stream'?: (string);
  'connect_session_id'?: (string);
  'stream'?: "connection_id"|"integration_id"|"system_stream"|"connect_session_id";
}

export interface GetHistoryRequest__Output {
  'connection_id'?: (string);
  'from_version': (number);
  'integration_id'?: (string);
  'system_stream'?: (string);
  'connect_session_id'?: (string);
  'stream'?: "connection_id"|"integration_id"|"system_stream"|"connect_session_id";
}
