// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface GetConnectionRequest {
  'connection_id'?: (string);
  'as_of'?: (_google_protobuf_Timestamp | null);
}

export interface GetConnectionRequest__Output {
  'connection_id': (string);
  'as_of': (_google_protobuf_Timestamp__Output | null);
}
