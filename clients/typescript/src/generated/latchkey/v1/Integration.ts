// Original file: proto/latchkey/v1/integration.proto

import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from '../../latchkey/v1/IntegrationConfig';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface Integration {
  'integration_id'?: (string);
  'config'?: (_latchkey_v1_IntegrationConfig | null);
  'has_client_secret'?: (boolean);
  'client_secret_fingerprint'?: (string);
  'version'?: (number | string | Long);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'updated_at'?: (_google_protobuf_Timestamp | null);
  'effective_redirect_uri'?: (string);
  'has_webhook_secret'?: (boolean);
  'owner_tenant'?: (string);
}

export interface Integration__Output {
  'integration_id': (string);
  'config': (_latchkey_v1_IntegrationConfig__Output | null);
  'has_client_secret': (boolean);
  'client_secret_fingerprint': (string);
  'version': (number);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'updated_at': (_google_protobuf_Timestamp__Output | null);
  'effective_redirect_uri': (string);
  'has_webhook_secret': (boolean);
  'owner_tenant': (string);
}
