export * from "./errors.ts"
export * from "./ids.ts"
export * from "./manifest.ts"
export * from "./scheduled-payload.ts"
