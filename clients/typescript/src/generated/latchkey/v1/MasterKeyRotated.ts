// Original file: proto/latchkey/v1/audit.proto

import type { Long } from '@grpc/proto-loader';

export interface MasterKeyRotated {
  'active'?: (string);
  'retired'?: (string)[];
  'rewrapped'?: (number | string | Long);
}

export interface MasterKeyRotated__Output {
  'active': (string);
  'retired': (string)[];
  'rewrapped': (number);
}
