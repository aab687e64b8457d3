// Original file: proto/latchkey/v1/audit.proto


export interface ApiKeyRevoked {
  'key_id'?: (string);
}

export interface ApiKeyRevoked__Output {
  'key_id': (string);
}
