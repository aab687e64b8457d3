// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface ConnectTokenExchangeRequest {
  'integration_id'?: (string);
  'tenant'?: (string);
  'subject_connection_id'?: (string);
  'scopes'?: (string)[];
  'audience'?: (string);
  'resource'?: (string);
  'requested_token_type'?: (string);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
}

export interface ConnectTokenExchangeRequest__Output {
  'integration_id': (string);
  'tenant': (string);
  'subject_connection_id': (string);
  'scopes': (string)[];
  'audience': (string);
  'resource': (string);
  'requested_token_type': (string);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
}
