// Original file: proto/latchkey/v1/integration.proto

import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from '../../latchkey/v1/IntegrationConfig';

export interface Template {
  'name'?: (string);
  'description'?: (string);
  'config'?: (_latchkey_v1_IntegrationConfig | null);
}

export interface Template__Output {
  'name': (string);
  'description': (string);
  'config': (_latchkey_v1_IntegrationConfig__Output | null);
}
