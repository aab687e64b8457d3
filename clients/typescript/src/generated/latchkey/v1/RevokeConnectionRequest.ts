// Original file: proto/latchkey/v1/connection.proto


export interface RevokeConnectionRequest {
  'connection_id'?: (string);
  'reason'?: (string);
}

export interface RevokeConnectionRequest__Output {
  'connection_id': (string);
  'reason': (string);
}
