// Original file: proto/latchkey/v1/integration.proto


export interface WebhookRouting {
  'event_type_from'?: (string);
  'delivery_id_from'?: (string);
  'routing_key_from'?: (string);
  'match_on'?: (string);
  'handshake'?: (string);
  'form_bodies_are_actions'?: (boolean);
  'action_ack'?: (string);
  'rate_per_second'?: (number);
}

export interface WebhookRouting__Output {
  'event_type_from': (string);
  'delivery_id_from': (string);
  'routing_key_from': (string);
  'match_on': (string);
  'handshake': (string);
  'form_bodies_are_actions': (boolean);
  'action_ack': (string);
  'rate_per_second': (number);
}
