// Original file: proto/latchkey/v1/integration.proto


export interface ListTemplatesRequest {
}

export interface ListTemplatesRequest__Output {
}
