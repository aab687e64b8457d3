// Original file: proto/latchkey/v1/integration.proto

import type { Template as _latchkey_v1_Template, Template__Output as _latchkey_v1_Template__Output } from '../../latchkey/v1/Template';

export interface ListTemplatesResponse {
  'templates'?: (_latchkey_v1_Template)[];
}

export interface ListTemplatesResponse__Output {
  'templates': (_latchkey_v1_Template__Output)[];
}
