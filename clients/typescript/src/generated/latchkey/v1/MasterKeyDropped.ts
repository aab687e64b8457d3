// Original file: proto/latchkey/v1/audit.proto


export interface MasterKeyDropped {
  'key_id'?: (string);
}

export interface MasterKeyDropped__Output {
  'key_id': (string);
}
