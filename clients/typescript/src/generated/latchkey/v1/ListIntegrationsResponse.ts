// Original file: proto/latchkey/v1/integration.proto

import type { Integration as _latchkey_v1_Integration, Integration__Output as _latchkey_v1_Integration__Output } from '../../latchkey/v1/Integration';

export interface ListIntegrationsResponse {
  'integrations'?: (_latchkey_v1_Integration)[];
  'next_page_token'?: (string);
}

export interface ListIntegrationsResponse__Output {
  'integrations': (_latchkey_v1_Integration__Output)[];
  'next_page_token': (string);
}
