// Original file: proto/latchkey/v1/audit.proto

import type { Long } from '@grpc/proto-loader';

export interface WebhookDelivery {
  'delivery_id'?: (string);
  'event_type'?: (string);
  'routing_keys'?: (string)[];
  'scheme'?: (string);
  'headers'?: ({[key: string]: string});
  'content_type'?: (string);
  'size'?: (number | string | Long);
  'body'?: (Buffer | Uint8Array | string);
}

export interface WebhookDelivery__Output {
  'delivery_id': (string);
  'event_type': (string);
  'routing_keys': (string)[];
  'scheme': (string);
  'headers': ({[key: string]: string});
  'content_type': (string);
  'size': (number);
  'body': (Buffer);
}
