// Original file: proto/latchkey/v1/connection.proto

import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from '../../latchkey/v1/ConnectionProfile';
import type { Long } from '@grpc/proto-loader';

export interface UpdateConnectionRequest {
  'connection_id'?: (string);
  'profile'?: (_latchkey_v1_ConnectionProfile | null);
  'expected_version'?: (number | string | Long);
  '_expected_version'?: "expected_version";
}

export interface UpdateConnectionRequest__Output {
  'connection_id': (string);
  'profile': (_latchkey_v1_ConnectionProfile__Output | null);
  'expected_version'?: (number);
  '_expected_version'?: "expected_version";
}
