// Extract dependencies from files with Renovate's own managers (the copy pinned by
// tools/renovate/package-lock.json): the custom regex managers of a config, and the
// built-in managers named on the command line (dockerfile, docker-compose, ...).
//
// usage: node renovate_extract.js <renovate dir> <config.json> <file>...
// prints JSON: {"<file>": {"<manager>": [deps...]}} with each dep's depName,
// currentValue, currentDigest, datasource and replaceString.
"use strict";
const fs = require("fs");
const path = require("path");

const [renovateDir, configPath, ...files] = process.argv.slice(2);
const dist = path.join(renovateDir, "node_modules", "renovate", "dist", "modules", "manager");
const regex = require(path.join(dist, "custom", "regex", "index.js"));
const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
const builtins = { dockerfile: require(path.join(dist, "dockerfile", "extract.js")) };

function matches(patterns, file) {
  return patterns.some((p) => new RegExp(p).test(file));
}

async function main() {
  const out = {};
  for (const file of files) {
    const content = fs.readFileSync(file, "utf8");
    const rel = file;
    out[rel] = {};
    (config.customManagers || []).forEach((manager, index) => {
      if (!matches(manager.fileMatch, rel)) return;
      const result = regex.extractPackageFile(content, rel, manager);
      out[rel][`regex#${index}`] = (result && result.deps) || [];
    });
    if (/(^|\/)Dockerfile$/.test(rel)) {
      const result = builtins.dockerfile.extractPackageFile(content, rel, {});
      out[rel].dockerfile = (result && result.deps) || [];
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
