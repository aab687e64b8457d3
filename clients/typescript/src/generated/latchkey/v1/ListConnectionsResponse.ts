// Original file: proto/latchkey/v1/connection.proto

import type { Connection as _latchkey_v1_Connection, Connection__Output as _latchkey_v1_Connection__Output } from '../../latchkey/v1/Connection';

export interface ListConnectionsResponse {
  'connections'?: (_latchkey_v1_Connection)[];
  'next_page_token'?: (string);
}

export interface ListConnectionsResponse__Output {
  'connections': (_latchkey_v1_Connection__Output)[];
  'next_page_token': (string);
}
