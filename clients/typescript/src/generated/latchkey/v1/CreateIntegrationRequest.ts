// Original file: proto/latchkey/v1/integration.proto

import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from '../../latchkey/v1/IntegrationConfig';

export interface CreateIntegrationRequest {
  'config'?: (_latchkey_v1_IntegrationConfig | null);
  'client_secret'?: (string);
  'template'?: (string);
  'discover'?: (boolean);
  'webhook_secret'?: (string);
  'owner_tenant'?: (string);
}

export interface CreateIntegrationRequest__Output {
  'config': (_latchkey_v1_IntegrationConfig__Output | null);
  'client_secret': (string);
  'template': (string);
  'discover': (boolean);
  'webhook_secret': (string);
  'owner_tenant': (string);
}
