// Original file: proto/latchkey/v1/connection.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';
import type { ConnectAppearance as _latchkey_v1_ConnectAppearance, ConnectAppearance__Output as _latchkey_v1_ConnectAppearance__Output } from '../../latchkey/v1/ConnectAppearance';

export interface CreateConnectSessionRequest {
  'tenant'?: (string);
  'integration_ids'?: (string)[];
  'return_url'?: (string);
  'connection_id'?: (string);
  'ttl'?: (_google_protobuf_Duration | null);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'max_connections'?: (number);
  'appearance'?: (_latchkey_v1_ConnectAppearance | null);
}

export interface CreateConnectSessionRequest__Output {
  'tenant': (string);
  'integration_ids': (string)[];
  'return_url': (string);
  'connection_id': (string);
  'ttl': (_google_protobuf_Duration__Output | null);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'max_connections': (number);
  'appearance': (_latchkey_v1_ConnectAppearance__Output | null);
}
