// Original file: proto/latchkey/v1/audit.proto


export interface IntegrationDeleted {
}

export interface IntegrationDeleted__Output {
}
