// Original file: proto/latchkey/v1/connection.proto

import type { Connection as _latchkey_v1_Connection, Connection__Output as _latchkey_v1_Connection__Output } from '../../latchkey/v1/Connection';

export interface ImportConnectionResponse {
  'connection'?: (_latchkey_v1_Connection | null);
  'created'?: (boolean);
}

export interface ImportConnectionResponse__Output {
  'connection': (_latchkey_v1_Connection__Output | null);
  'created': (boolean);
}
