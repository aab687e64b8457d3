// Original file: proto/latchkey/v1/audit.proto

import type { RevocationAnswer as _latchkey_v1_RevocationAnswer, RevocationAnswer__Output as _latchkey_v1_RevocationAnswer__Output } from '../../latchkey/v1/RevocationAnswer';

export interface Revoked {
  'reason'?: (string);
  'provider'?: (_latchkey_v1_RevocationAnswer)[];
}

export interface Revoked__Output {
  'reason': (string);
  'provider': (_latchkey_v1_RevocationAnswer__Output)[];
}
