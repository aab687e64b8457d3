// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface TokenGrant {
  'token_type'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'scopes'?: (string)[];
  'refresh_token_issued'?: (boolean);
  'refresh_at'?: (_google_protobuf_Timestamp | null);
}

export interface TokenGrant__Output {
  'token_type': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'scopes': (string)[];
  'refresh_token_issued': (boolean);
  'refresh_at': (_google_protobuf_Timestamp__Output | null);
}
