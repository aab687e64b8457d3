// Original file: proto/latchkey/v1/audit.proto


export interface IntegrationCreated {
  'integration_id'?: (string);
  'name'?: (string);
  'grant_type'?: (string);
  'owner_tenant'?: (string);
}

export interface IntegrationCreated__Output {
  'integration_id': (string);
  'name': (string);
  'grant_type': (string);
  'owner_tenant': (string);
}
