// Original file: proto/latchkey/v1/audit.proto


export interface Validated {
  'valid'?: (boolean);
  'reason'?: (string);
}

export interface Validated__Output {
  'valid': (boolean);
  'reason': (string);
}
