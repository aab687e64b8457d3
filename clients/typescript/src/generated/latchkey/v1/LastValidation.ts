// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface LastValidation {
  'valid'?: (boolean);
  'reason'?: (string);
  'at'?: (_google_protobuf_Timestamp | null);
}

export interface LastValidation__Output {
  'valid': (boolean);
  'reason': (string);
  'at': (_google_protobuf_Timestamp__Output | null);
}
