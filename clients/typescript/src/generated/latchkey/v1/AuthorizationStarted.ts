// Original file: proto/latchkey/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface AuthorizationStarted {
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'scopes'?: (string)[];
  'redirect_uri'?: (string);
  'return_url'?: (string);
  'pkce'?: (boolean);
}

export interface AuthorizationStarted__Output {
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'scopes': (string)[];
  'redirect_uri': (string);
  'return_url': (string);
  'pkce': (boolean);
}
