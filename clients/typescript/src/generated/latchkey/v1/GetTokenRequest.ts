// Original file: proto/latchkey/v1/connection.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { DpopRequest as _latchkey_v1_DpopRequest, DpopRequest__Output as _latchkey_v1_DpopRequest__Output } from '../../latchkey/v1/DpopRequest';

export interface GetTokenRequest {
  'connection_id'?: (string);
  'min_ttl'?: (_google_protobuf_Duration | null);
  'dpop'?: (_latchkey_v1_DpopRequest | null);
}

export interface GetTokenRequest__Output {
  'connection_id': (string);
  'min_ttl': (_google_protobuf_Duration__Output | null);
  'dpop': (_latchkey_v1_DpopRequest__Output | null);
}
