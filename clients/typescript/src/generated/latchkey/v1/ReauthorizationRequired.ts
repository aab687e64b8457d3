// Original file: proto/latchkey/v1/audit.proto


export interface ReauthorizationRequired {
  'error'?: (string);
  'description'?: (string);
}

export interface ReauthorizationRequired__Output {
  'error': (string);
  'description': (string);
}
