// Original file: proto/latchkey/v1/audit.proto


export interface ConnectSessionConnected {
  'connection_id'?: (string);
}

export interface ConnectSessionConnected__Output {
  'connection_id': (string);
}
