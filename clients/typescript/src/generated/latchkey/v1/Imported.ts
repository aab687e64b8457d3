// Original file: proto/latchkey/v1/audit.proto

import type { TokenGrant as _latchkey_v1_TokenGrant, TokenGrant__Output as _latchkey_v1_TokenGrant__Output } from '../../latchkey/v1/TokenGrant';

export interface Imported {
  'tokens'?: (_latchkey_v1_TokenGrant | null);
  'provider_account_id'?: (string);
  'source_id'?: (string);
}

export interface Imported__Output {
  'tokens': (_latchkey_v1_TokenGrant__Output | null);
  'provider_account_id': (string);
  'source_id': (string);
}
