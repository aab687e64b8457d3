// Original file: proto/latchkey/v1/integration.proto

import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from '../../latchkey/v1/IntegrationConfig';
import type { Long } from '@grpc/proto-loader';

export interface UpdateIntegrationRequest {
  'integration_id'?: (string);
  'config'?: (_latchkey_v1_IntegrationConfig | null);
  'client_secret'?: (string);
  'clear_client_secret'?: (boolean);
  'expected_version'?: (number | string | Long);
  'webhook_secret'?: (string);
  'clear_webhook_secret'?: (boolean);
  '_client_secret'?: "client_secret";
  '_expected_version'?: "expected_version";
  '_webhook_secret'?: "webhook_secret";
}

export interface UpdateIntegrationRequest__Output {
  'integration_id': (string);
  'config': (_latchkey_v1_IntegrationConfig__Output | null);
  'client_secret'?: (string);
  'clear_client_secret': (boolean);
  'expected_version'?: (number);
  'webhook_secret'?: (string);
  'clear_webhook_secret': (boolean);
  '_client_secret'?: "client_secret";
  '_expected_version'?: "expected_version";
  '_webhook_secret'?: "webhook_secret";
}
