// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionStatus as _latchkey_v1_ConnectionStatus, ConnectionStatus__Output as _latchkey_v1_ConnectionStatus__Output } from '../../latchkey/v1/ConnectionStatus';
import type { ConnectionHealth as _latchkey_v1_ConnectionHealth, ConnectionHealth__Output as _latchkey_v1_ConnectionHealth__Output } from '../../latchkey/v1/ConnectionHealth';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ListConnectionsRequest {
  'tenant'?: (string);
  'integration_id'?: (string);
  'status'?: (_latchkey_v1_ConnectionStatus);
  'page_size'?: (number);
  'page_token'?: (string);
  'labels'?: ({[key: string]: string});
  'provider_account_id'?: (string);
  'health'?: (_latchkey_v1_ConnectionHealth);
  'failing_since_before'?: (_google_protobuf_Timestamp | null);
}

export interface ListConnectionsRequest__Output {
  'tenant': (string);
  'integration_id': (string);
  'status': (_latchkey_v1_ConnectionStatus__Output);
  'page_size': (number);
  'page_token': (string);
  'labels': ({[key: string]: string});
  'provider_account_id': (string);
  'health': (_latchkey_v1_ConnectionHealth__Output);
  'failing_since_before': (_google_protobuf_Timestamp__Output | null);
}
