// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface TokenReadCount {
  'actor'?: (string);
  'connection_id'?: (string);
  'minute'?: (_google_protobuf_Timestamp | null);
  'reads'?: (number | string | Long);
}

export interface TokenReadCount__Output {
  'actor': (string);
  'connection_id': (string);
  'minute': (_google_protobuf_Timestamp__Output | null);
  'reads': (number);
}
