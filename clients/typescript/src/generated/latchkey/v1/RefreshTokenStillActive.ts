// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RefreshTokenStillActive {
  'sent_at'?: (_google_protobuf_Timestamp | null);
}

export interface RefreshTokenStillActive__Output {
  'sent_at': (_google_protobuf_Timestamp__Output | null);
}
