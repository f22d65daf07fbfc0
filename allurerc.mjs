// Allure 3 configuration for ctrlab's HTML report (`npm run report`).
import { defineConfig } from "allure";

export default defineConfig({
  name: "ctrlab conformance",
  output: "reports/allure-report",
  // One JSONL file keeps the trend between runs; CI restores and saves it (see .github/workflows).
  historyPath: "reports/history.jsonl",
  historyLimit: 30,
});
