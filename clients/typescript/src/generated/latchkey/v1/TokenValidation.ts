// Original file: proto/latchkey/v1/integration.proto


export interface TokenValidation {
  'kind'?: (string);
  'url'?: (string);
  'method'?: (string);
  'path'?: (string);
  'expected_status'?: (number);
}

export interface TokenValidation__Output {
  'kind': (string);
  'url': (string);
  'method': (string);
  'path': (string);
  'expected_status': (number);
}
