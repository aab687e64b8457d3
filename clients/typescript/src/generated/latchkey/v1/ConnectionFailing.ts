// Original file: proto/latchkey/v1/audit.proto


export interface ConnectionFailing {
  'error'?: (string);
  'description'?: (string);
}

export interface ConnectionFailing__Output {
  'error': (string);
  'description': (string);
}
