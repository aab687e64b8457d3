// Original file: proto/latchkey/v1/audit.proto

import type { TokenReads as _latchkey_v1_TokenReads, TokenReads__Output as _latchkey_v1_TokenReads__Output } from '../../latchkey/v1/TokenReads';

export interface GetAccessLogResponse {
  'reads'?: (_latchkey_v1_TokenReads)[];
}

export interface GetAccessLogResponse__Output {
  'reads': (_latchkey_v1_TokenReads__Output)[];
}
