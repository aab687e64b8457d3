// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ConnectMcpServerResponse {
  'authorization_url'?: (string);
  'connection_id'?: (string);
  'integration_id'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
}

export interface ConnectMcpServerResponse__Output {
  'authorization_url': (string);
  'connection_id': (string);
  'integration_id': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
}
