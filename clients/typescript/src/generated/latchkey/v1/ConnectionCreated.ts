// Original file: proto/latchkey/v1/audit.proto


export interface ConnectionCreated {
  'connection_id'?: (string);
  'integration_id'?: (string);
  'tenant'?: (string);
  'grant_type'?: (string);
}

export interface ConnectionCreated__Output {
  'connection_id': (string);
  'integration_id': (string);
  'tenant': (string);
  'grant_type': (string);
}
