// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface StartDeviceAuthorizationRequest {
  'integration_id'?: (string);
  'tenant'?: (string);
  'scopes'?: (string)[];
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'connection_params'?: ({[key: string]: string});
  'connection_id'?: (string);
}

export interface StartDeviceAuthorizationRequest__Output {
  'integration_id': (string);
  'tenant': (string);
  'scopes': (string)[];
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'connection_params': ({[key: string]: string});
  'connection_id': (string);
}
