// Original file: proto/latchkey/v1/audit.proto


export interface ConnectSessionFailed {
  'integration_id'?: (string);
  'connection_id'?: (string);
  'error'?: (string);
}

export interface ConnectSessionFailed__Output {
  'integration_id': (string);
  'connection_id': (string);
  'error': (string);
}
