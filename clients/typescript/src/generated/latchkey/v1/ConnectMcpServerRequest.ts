// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface ConnectMcpServerRequest {
  'server_url'?: (string);
  'tenant'?: (string);
  'scopes'?: (string)[];
  'return_url'?: (string);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
}

export interface ConnectMcpServerRequest__Output {
  'server_url': (string);
  'tenant': (string);
  'scopes': (string)[];
  'return_url': (string);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
}
