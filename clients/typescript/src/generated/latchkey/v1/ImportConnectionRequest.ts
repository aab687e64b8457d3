// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';

export interface ImportConnectionRequest {
  'integration_id'?: (string);
  'tenant'?: (string);
  'access_token'?: (string);
  'refresh_token'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'scopes'?: (string)[];
  'metadata'?: (_google_protobuf_Struct | null);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'import_id'?: (string);
  'provider_account_id'?: (string);
  'token_type'?: (string);
  'connection_params'?: ({[key: string]: string});
}

export interface ImportConnectionRequest__Output {
  'integration_id': (string);
  'tenant': (string);
  'access_token': (string);
  'refresh_token': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'scopes': (string)[];
  'metadata': (_google_protobuf_Struct__Output | null);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'import_id': (string);
  'provider_account_id': (string);
  'token_type': (string);
  'connection_params': ({[key: string]: string});
}
