// Original file: proto/latchkey/v1/integration.proto


export interface RevocationRequest {
  'method'?: (string);
  'body'?: (string);
  'body_format'?: (string);
  'auth'?: (string);
  'token'?: (string);
}

export interface RevocationRequest__Output {
  'method': (string);
  'body': (string);
  'body_format': (string);
  'auth': (string);
  'token': (string);
}
