// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface CreateConnectSessionResponse {
  'session_id'?: (string);
  'connect_url'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
}

export interface CreateConnectSessionResponse__Output {
  'session_id': (string);
  'connect_url': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
}
