// Original file: proto/latchkey/v1/connection.proto

import type { WebhookDeliveryRecord as _latchkey_v1_WebhookDeliveryRecord, WebhookDeliveryRecord__Output as _latchkey_v1_WebhookDeliveryRecord__Output } from '../../latchkey/v1/WebhookDeliveryRecord';

export interface ListWebhookDeliveriesResponse {
  'deliveries'?: (_latchkey_v1_WebhookDeliveryRecord)[];
  'next_page_token'?: (string);
}

export interface ListWebhookDeliveriesResponse__Output {
  'deliveries': (_latchkey_v1_WebhookDeliveryRecord__Output)[];
  'next_page_token': (string);
}
