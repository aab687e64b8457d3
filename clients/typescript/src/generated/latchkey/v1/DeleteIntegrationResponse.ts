// Original file: proto/latchkey/v1/integration.proto


export interface DeleteIntegrationResponse {
}

export interface DeleteIntegrationResponse__Output {
}
