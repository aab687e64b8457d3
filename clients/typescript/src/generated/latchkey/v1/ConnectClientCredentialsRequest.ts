// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface ConnectClientCredentialsRequest {
  'integration_id'?: (string);
  'tenant'?: (string);
  'client_id'?: (string);
  'client_secret'?: (string);
  'scopes'?: (string)[];
  'extra_params'?: ({[key: string]: string});
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'connection_params'?: ({[key: string]: string});
}

export interface ConnectClientCredentialsRequest__Output {
  'integration_id': (string);
  'tenant': (string);
  'client_id': (string);
  'client_secret': (string);
  'scopes': (string)[];
  'extra_params': ({[key: string]: string});
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'connection_params': ({[key: string]: string});
}
