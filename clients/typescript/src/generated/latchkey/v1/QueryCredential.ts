// Original file: proto/latchkey/v1/connection.proto


export interface QueryCredential {
  'param'?: (string);
  'value'?: (string);
}

export interface QueryCredential__Output {
  'param': (string);
  'value': (string);
}
