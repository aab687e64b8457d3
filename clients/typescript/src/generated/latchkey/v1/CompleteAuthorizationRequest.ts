// Original file: proto/latchkey/v1/connection.proto


export interface CompleteAuthorizationRequest {
  'callback_query'?: (string);
}

export interface CompleteAuthorizationRequest__Output {
  'callback_query': (string);
}
