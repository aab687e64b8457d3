// Original file: proto/latchkey/v1/audit.proto

import type { TokenGrant as _latchkey_v1_TokenGrant, TokenGrant__Output as _latchkey_v1_TokenGrant__Output } from '../../latchkey/v1/TokenGrant';

export interface Refreshed {
  'tokens'?: (_latchkey_v1_TokenGrant | null);
}

export interface Refreshed__Output {
  'tokens': (_latchkey_v1_TokenGrant__Output | null);
}
