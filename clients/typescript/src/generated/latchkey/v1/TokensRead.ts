// Original file: proto/latchkey/v1/audit.proto

import type { TokenReadCount as _latchkey_v1_TokenReadCount, TokenReadCount__Output as _latchkey_v1_TokenReadCount__Output } from '../../latchkey/v1/TokenReadCount';

export interface TokensRead {
  'reads'?: (_latchkey_v1_TokenReadCount)[];
}

export interface TokensRead__Output {
  'reads': (_latchkey_v1_TokenReadCount__Output)[];
}
