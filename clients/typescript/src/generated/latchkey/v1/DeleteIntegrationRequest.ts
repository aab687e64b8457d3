// Original file: proto/latchkey/v1/integration.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteIntegrationRequest {
  'integration_id'?: (string);
  'expected_version'?: (number | string | Long);
  'force'?: (boolean);
  '_expected_version'?: "expected_version";
}

export interface DeleteIntegrationRequest__Output {
  'integration_id': (string);
  'expected_version'?: (number);
  'force': (boolean);
  '_expected_version'?: "expected_version";
}
