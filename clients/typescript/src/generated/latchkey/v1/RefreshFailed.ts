// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RefreshFailed {
  'error'?: (string);
  'description'?: (string);
  'retryable'?: (boolean);
  'retry_at'?: (_google_protobuf_Timestamp | null);
  'attempt'?: (number);
}

export interface RefreshFailed__Output {
  'error': (string);
  'description': (string);
  'retryable': (boolean);
  'retry_at': (_google_protobuf_Timestamp__Output | null);
  'attempt': (number);
}
