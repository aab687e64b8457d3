// Original file: proto/latchkey/v1/connection.proto

import type { GrantType as _latchkey_v1_GrantType, GrantType__Output as _latchkey_v1_GrantType__Output } from '../../latchkey/v1/GrantType';
import type { ConnectionStatus as _latchkey_v1_ConnectionStatus, ConnectionStatus__Output as _latchkey_v1_ConnectionStatus__Output } from '../../latchkey/v1/ConnectionStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { ConnectionError as _latchkey_v1_ConnectionError, ConnectionError__Output as _latchkey_v1_ConnectionError__Output } from '../../latchkey/v1/ConnectionError';
import type { LastValidation as _latchkey_v1_LastValidation, LastValidation__Output as _latchkey_v1_LastValidation__Output } from '../../latchkey/v1/LastValidation';
import type { Long } from '@grpc/proto-loader';

export interface Connection {
  'connection_id'?: (string);
  'integration_id'?: (string);
  'tenant'?: (string);
  'grant_type'?: (_latchkey_v1_GrantType);
  'status'?: (_latchkey_v1_ConnectionStatus);
  'scopes'?: (string)[];
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'has_refresh_token'?: (boolean);
  'metadata'?: (_google_protobuf_Struct | null);
  'last_error'?: (_latchkey_v1_ConnectionError | null);
  'version'?: (number | string | Long);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'updated_at'?: (_google_protobuf_Timestamp | null);
  'authorized_at'?: (_google_protobuf_Timestamp | null);
  'refreshed_at'?: (_google_protobuf_Timestamp | null);
  'next_refresh_at'?: (_google_protobuf_Timestamp | null);
  'can_refresh'?: (boolean);
  'name'?: (string);
  'description'?: (string);
  'labels'?: ({[key: string]: string});
  'last_validation'?: (_latchkey_v1_LastValidation | null);
  'provider_account_id'?: (string);
  'failing_since'?: (_google_protobuf_Timestamp | null);
  'connection_params'?: ({[key: string]: string});
  'refresh_token_expires_at'?: (_google_protobuf_Timestamp | null);
  'webhook_secret_fingerprint'?: (string);
}

export interface Connection__Output {
  'connection_id': (string);
  'integration_id': (string);
  'tenant': (string);
  'grant_type': (_latchkey_v1_GrantType__Output);
  'status': (_latchkey_v1_ConnectionStatus__Output);
  'scopes': (string)[];
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'has_refresh_token': (boolean);
  'metadata': (_google_protobuf_Struct__Output | null);
  'last_error': (_latchkey_v1_ConnectionError__Output | null);
  'version': (number);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'updated_at': (_google_protobuf_Timestamp__Output | null);
  'authorized_at': (_google_protobuf_Timestamp__Output | null);
  'refreshed_at': (_google_protobuf_Timestamp__Output | null);
  'next_refresh_at': (_google_protobuf_Timestamp__Output | null);
  'can_refresh': (boolean);
  'name': (string);
  'description': (string);
  'labels': ({[key: string]: string});
  'last_validation': (_latchkey_v1_LastValidation__Output | null);
  'provider_account_id': (string);
  'failing_since': (_google_protobuf_Timestamp__Output | null);
  'connection_params': ({[key: string]: string});
  'refresh_token_expires_at': (_google_protobuf_Timestamp__Output | null);
  'webhook_secret_fingerprint': (string);
}
