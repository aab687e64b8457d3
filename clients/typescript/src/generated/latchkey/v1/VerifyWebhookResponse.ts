// Original file: proto/latchkey/v1/integration.proto


export interface VerifyWebhookResponse {
  'valid'?: (boolean);
  'reason'?: (string);
  'provider_account_id'?: (string);
  'connection_id'?: (string);
}

export interface VerifyWebhookResponse__Output {
  'valid': (boolean);
  'reason': (string);
  'provider_account_id': (string);
  'connection_id': (string);
}
