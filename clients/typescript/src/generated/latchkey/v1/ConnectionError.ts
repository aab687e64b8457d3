// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ConnectionError {
  'code'?: (string);
  'description'?: (string);
  'retryable'?: (boolean);
  'at'?: (_google_protobuf_Timestamp | null);
}

export interface ConnectionError__Output {
  'code': (string);
  'description': (string);
  'retryable': (boolean);
  'at': (_google_protobuf_Timestamp__Output | null);
}
