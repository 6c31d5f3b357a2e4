// The task project's entry (package.json "main"): every task it exports is deployed.
export { nightlyMaintenance } from "./nightly-maintenance.ts"
export { reviewPr } from "./review-pr.ts"
