// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ConnectSessionCreated {
  'session_id'?: (string);
  'tenant'?: (string);
  'integration_ids'?: (string)[];
  'return_url'?: (string);
  'connection_id'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'max_connections'?: (number);
  'locale'?: (string);
  'platform_name'?: (string);
  'accent_color'?: (string);
  'support_url'?: (string);
}

export interface ConnectSessionCreated__Output {
  'session_id': (string);
  'tenant': (string);
  'integration_ids': (string)[];
  'return_url': (string);
  'connection_id': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'max_connections': (number);
  'locale': (string);
  'platform_name': (string);
  'accent_color': (string);
  'support_url': (string);
}
