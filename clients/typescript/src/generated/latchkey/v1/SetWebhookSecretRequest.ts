// Original file: proto/latchkey/v1/connection.proto


export interface SetWebhookSecretRequest {
  'connection_id'?: (string);
  'webhook_secret'?: (string);
  'clear'?: (boolean);
}

export interface SetWebhookSecretRequest__Output {
  'connection_id': (string);
  'webhook_secret': (string);
  'clear': (boolean);
}
