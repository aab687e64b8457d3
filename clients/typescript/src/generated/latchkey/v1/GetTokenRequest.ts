// Original file: proto/latchkey/v1/connection.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface GetTokenRequest {
  'connection_id'?: (string);
  'min_ttl'?: (_google_protobuf_Duration | null);
}

export interface GetTokenRequest__Output {
  'connection_id': (string);
  'min_ttl': (_google_protobuf_Duration__Output | null);
}
