// Original file: proto/latchkey/v1/audit.proto


export interface IntegrationUpdated {
  'name'?: (string);
  'grant_type'?: (string);
}

export interface IntegrationUpdated__Output {
  'name': (string);
  'grant_type': (string);
}
