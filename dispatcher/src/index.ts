export * from "./schedule/calc.ts"
