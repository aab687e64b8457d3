// Original file: proto/latchkey/v1/integration.proto


export interface VerifyWebhookRequest {
  'integration_id'?: (string);
  'headers'?: ({[key: string]: string});
  'body'?: (Buffer | Uint8Array | string);
  'method'?: (string);
  'url'?: (string);
}

export interface VerifyWebhookRequest__Output {
  'integration_id': (string);
  'headers': ({[key: string]: string});
  'body': (Buffer);
  'method': (string);
  'url': (string);
}
