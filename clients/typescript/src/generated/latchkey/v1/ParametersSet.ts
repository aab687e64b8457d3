// Original file: proto/latchkey/v1/audit.proto


export interface ParametersSet {
  'values'?: ({[key: string]: string});
}

export interface ParametersSet__Output {
  'values': ({[key: string]: string});
}
