// Original file: proto/latchkey/v1/audit.proto

import type { RevocationAnswer as _latchkey_v1_RevocationAnswer, RevocationAnswer__Output as _latchkey_v1_RevocationAnswer__Output } from '../../latchkey/v1/RevocationAnswer';

export interface RevocationRetried {
  'provider'?: (_latchkey_v1_RevocationAnswer)[];
  'attempt'?: (number);
  'confirmed'?: (boolean);
  'gave_up'?: (boolean);
}

export interface RevocationRetried__Output {
  'provider': (_latchkey_v1_RevocationAnswer__Output)[];
  'attempt': (number);
  'confirmed': (boolean);
  'gave_up': (boolean);
}
