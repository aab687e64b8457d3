// Original file: proto/latchkey/v1/connection.proto


export interface DpopRequest {
  'method'?: (string);
  'url'?: (string);
  'nonce'?: (string);
}

export interface DpopRequest__Output {
  'method': (string);
  'url': (string);
  'nonce': (string);
}
