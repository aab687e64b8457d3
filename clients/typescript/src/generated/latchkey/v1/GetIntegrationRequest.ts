// Original file: proto/latchkey/v1/integration.proto


export interface GetIntegrationRequest {
  'integration_id'?: (string);
}

export interface GetIntegrationRequest__Output {
  'integration_id': (string);
}
