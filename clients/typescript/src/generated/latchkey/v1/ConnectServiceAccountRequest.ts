// Original file: proto/latchkey/v1/connection.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface ConnectServiceAccountRequest {
  'integration_id'?: (string);
  'tenant'?: (string);
  'key'?: (string);
  'algorithm'?: (string);
  'key_id'?: (string);
  'issuer'?: (string);
  'subject'?: (string);
  'audience'?: (string);
  'scopes'?: (string)[];
  'extra_claims'?: (_google_protobuf_Struct | null);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'connection_params'?: ({[key: string]: string});
  'connection_id'?: (string);
}

export interface ConnectServiceAccountRequest__Output {
  'integration_id': (string);
  'tenant': (string);
  'key': (string);
  'algorithm': (string);
  'key_id': (string);
  'issuer': (string);
  'subject': (string);
  'audience': (string);
  'scopes': (string)[];
  'extra_claims': (_google_protobuf_Struct__Output | null);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'connection_params': ({[key: string]: string});
  'connection_id': (string);
}
