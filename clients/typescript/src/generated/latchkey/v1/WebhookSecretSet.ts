// Original file: proto/latchkey/v1/audit.proto


export interface WebhookSecretSet {
  'fingerprint'?: (string);
}

export interface WebhookSecretSet__Output {
  'fingerprint': (string);
}
