// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface TokenReads {
  'actor'?: (string);
  'minute'?: (_google_protobuf_Timestamp | null);
  'reads'?: (number | string | Long);
}

export interface TokenReads__Output {
  'actor': (string);
  'minute': (_google_protobuf_Timestamp__Output | null);
  'reads': (number);
}
