export * from "./authoring/index.ts"
export * from "./contract/index.ts"
export * from "./runtime/logger.ts"
