// Original file: proto/latchkey/v1/connection.proto


export interface ConnectionProfile {
  'name'?: (string);
  'description'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface ConnectionProfile__Output {
  'name': (string);
  'description': (string);
  'labels': ({[key: string]: string});
}
