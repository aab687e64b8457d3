// Original file: proto/latchkey/v1/connection.proto


export interface ValidateConnectionRequest {
  'connection_id'?: (string);
}

export interface ValidateConnectionRequest__Output {
  'connection_id': (string);
}
