// Allure 3 configuration for ctrlab's HTML report (`npm run report`, `npx allure open reports/allure-report`).
import { readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "allure";

const output = "reports/allure-report";
// Allure 3 moves its one plugin's folder to the top of the output only when the output holds no other
// folder: a second `allure generate` into an existing report would write awesome/index.html beside a stale
// index.html. So generating into the configured output starts from an empty folder (open/serve keep it).
const [command, ...rest] = process.argv.slice(2);
if (["generate", "run"].includes(command) && !rest.some((a) => /^(-o|--output)(=|$)/.test(a))) {
  rmSync(resolve(output), { recursive: true, force: true });
}

// The categories are those docs/harness.md promises; one source, read by the pytest plugin too (for Allure 2).
const { rules } = JSON.parse(readFileSync(new URL("./harness/report/categories.json", import.meta.url), "utf-8"));

export default defineConfig({
  name: "ctrlab conformance",
  output,
  // One plugin, so the report is reports/allure-report/index.html (more plugins get a folder each).
  plugins: {
    awesome: {
      options: { reportName: "ctrlab conformance", singleFile: false, groupBy: ["epic", "feature", "story"] },
    },
  },
  categories: { rules },
  // Labels no reader of a conformance report needs (results written before the harness dropped them).
  hideLabels: ["host", "thread"],
  // One JSONL file keeps the trend between runs; CI restores and saves it (see .github/workflows).
  historyPath: "reports/history.jsonl",
  historyLimit: 30,
});
