// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface StartDeviceAuthorizationResponse {
  'connection_id'?: (string);
  'user_code'?: (string);
  'verification_uri'?: (string);
  'verification_uri_complete'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'interval'?: (_google_protobuf_Duration | null);
}

export interface StartDeviceAuthorizationResponse__Output {
  'connection_id': (string);
  'user_code': (string);
  'verification_uri': (string);
  'verification_uri_complete': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'interval': (_google_protobuf_Duration__Output | null);
}
