// Original file: proto/latchkey/v1/audit.proto


export interface WebhookHandshake {
  'handshake'?: (string);
  'connection_id'?: (string);
}

export interface WebhookHandshake__Output {
  'handshake': (string);
  'connection_id': (string);
}
