// Original file: proto/latchkey/v1/integration.proto


export interface AccountMapping {
  'kind'?: (string);
  'url'?: (string);
  'pointer'?: (string);
  'method'?: (string);
}

export interface AccountMapping__Output {
  'kind': (string);
  'url': (string);
  'pointer': (string);
  'method': (string);
}
