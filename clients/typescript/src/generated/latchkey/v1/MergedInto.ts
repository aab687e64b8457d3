// Original file: proto/latchkey/v1/audit.proto


export interface MergedInto {
  'into_connection_id'?: (string);
}

export interface MergedInto__Output {
  'into_connection_id': (string);
}
