// Original file: proto/latchkey/v1/connection.proto


export interface RefreshTokenRequest {
  'connection_id'?: (string);
}

export interface RefreshTokenRequest__Output {
  'connection_id': (string);
}
