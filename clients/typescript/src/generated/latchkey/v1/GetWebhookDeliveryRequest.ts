// Original file: proto/latchkey/v1/connection.proto


export interface GetWebhookDeliveryRequest {
  'event_id'?: (string);
}

export interface GetWebhookDeliveryRequest__Output {
  'event_id': (string);
}
