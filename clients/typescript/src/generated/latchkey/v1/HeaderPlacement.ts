// Original file: proto/latchkey/v1/integration.proto


export interface HeaderPlacement {
  'name'?: (string);
  'prefix'?: (string);
}

export interface HeaderPlacement__Output {
  'name': (string);
  'prefix': (string);
}
