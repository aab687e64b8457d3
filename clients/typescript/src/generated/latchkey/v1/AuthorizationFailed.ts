// Original file: proto/latchkey/v1/audit.proto


export interface AuthorizationFailed {
  'error'?: (string);
  'description'?: (string);
}

export interface AuthorizationFailed__Output {
  'error': (string);
  'description': (string);
}
