// Original file: proto/latchkey/v1/connection.proto


export interface DeleteConnectionRequest {
  'connection_id'?: (string);
}

export interface DeleteConnectionRequest__Output {
  'connection_id': (string);
}
