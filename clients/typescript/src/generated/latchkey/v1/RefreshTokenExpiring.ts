// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RefreshTokenExpiring {
  'expires_at'?: (_google_protobuf_Timestamp | null);
}

export interface RefreshTokenExpiring__Output {
  'expires_at': (_google_protobuf_Timestamp__Output | null);
}
