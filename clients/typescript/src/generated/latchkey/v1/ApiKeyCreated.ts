// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ApiKeyCreated {
  'key_id'?: (string);
  'name'?: (string);
  'tenant'?: (string);
  'role'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
}

export interface ApiKeyCreated__Output {
  'key_id': (string);
  'name': (string);
  'tenant': (string);
  'role': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
}
