// Original file: proto/latchkey/v1/audit.proto


export interface ConnectionUpdated {
  'name'?: (string);
  'description'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface ConnectionUpdated__Output {
  'name': (string);
  'description': (string);
  'labels': ({[key: string]: string});
}
