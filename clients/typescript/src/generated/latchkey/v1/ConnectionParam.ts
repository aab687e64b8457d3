// Original file: proto/latchkey/v1/integration.proto


export interface ConnectionParam {
  'name'?: (string);
  'pattern'?: (string);
  'label'?: (string);
  'description'?: (string);
}

export interface ConnectionParam__Output {
  'name': (string);
  'pattern': (string);
  'label': (string);
  'description': (string);
}
