// Original file: proto/latchkey/v1/integration.proto


export interface ListIntegrationsRequest {
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface ListIntegrationsRequest__Output {
  'page_size': (number);
  'page_token': (string);
}
