// Original file: proto/latchkey/v1/audit.proto


export interface EventFilter {
  'tenant'?: (string);
  'types'?: (string)[];
  'connection_id'?: (string);
}

export interface EventFilter__Output {
  'tenant': (string);
  'types': (string)[];
  'connection_id': (string);
}
