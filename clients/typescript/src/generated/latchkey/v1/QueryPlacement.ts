// Original file: proto/latchkey/v1/integration.proto


export interface QueryPlacement {
  'param'?: (string);
}

export interface QueryPlacement__Output {
  'param': (string);
}
