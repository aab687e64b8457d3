// Original file: proto/latchkey/v1/audit.proto


export interface RevocationAnswer {
  'token_type_hint'?: (string);
  'status'?: (number);
  'error'?: (string);
}

export interface RevocationAnswer__Output {
  'token_type_hint': (string);
  'status': (number);
  'error': (string);
}
