// Original file: proto/latchkey/v1/connection.proto


export interface HeaderCredential {
  'name'?: (string);
  'value'?: (string);
}

export interface HeaderCredential__Output {
  'name': (string);
  'value': (string);
}
