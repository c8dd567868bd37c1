// SPDX-License-Identifier: Apache-2.0
// Validators for spec/release/test_helm.bats (offline after `npm ci --prefix spec/release/helm`).
//
//   node validate.mjs objects OBJECTS.json         every object (a JSON array, as written by
//                                                  render/main.go --json-out) against the
//                                                  Kubernetes schemas of kubernetes-models
//   node validate.mjs values SCHEMA.json VALUES.json   values against values.schema.json (ajv,
//                                                  JSON Schema draft-07 as Helm checks it)
//
// Prints one line per problem and exits 1 when there is any; "ok: ..." and 0 otherwise.
// kubernetes-models checks types, required fields and formats; it does not reject unknown
// fields (the Kubernetes OpenAPI schemas allow them), so the bats spec asserts key paths itself.
import { readFileSync } from "node:fs";
import Ajv from "ajv";

const [mode, ...args] = process.argv.slice(2);

function fail(lines) {
  for (const l of lines) console.error(l);
  process.exit(1);
}

async function validateObjects(file) {
  const objects = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(objects) || objects.length === 0) fail([`${file}: no objects`]);
  const problems = [];
  const seen = new Set();
  for (const obj of objects) {
    const { apiVersion, kind } = obj ?? {};
    const name = obj?.metadata?.name;
    const label = `${apiVersion}/${kind} ${name}`;
    if (typeof apiVersion !== "string" || typeof kind !== "string" || !name) {
      problems.push(`${label}: apiVersion, kind and metadata.name are required`);
      continue;
    }
    const key = `${apiVersion}/${kind}/${obj.metadata.namespace ?? ""}/${name}`;
    if (seen.has(key)) problems.push(`${label}: rendered twice`);
    seen.add(key);
    let mod;
    try {
      mod = await import(`kubernetes-models/${apiVersion}`);
    } catch {
      problems.push(`${label}: unknown apiVersion ${apiVersion}`);
      continue;
    }
    const Model = mod[kind];
    if (typeof Model !== "function") {
      problems.push(`${label}: unknown kind ${kind} in ${apiVersion}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      problems.push(`${label}: ${e.message}`);
      for (const d of e.errors ?? []) {
        problems.push(`  ${d.instancePath || "/"} ${d.message} ${JSON.stringify(d.params)}`);
      }
    }
  }
  if (problems.length) fail(problems);
  console.log(`ok: ${objects.length} objects valid`);
}

function validateValues(schemaFile, valuesFile) {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
  const values = JSON.parse(readFileSync(valuesFile, "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  if (!validate(values)) {
    fail(validate.errors.map((e) => `values${e.instancePath || ""}: ${e.message} ${JSON.stringify(e.params)}`));
  }
  console.log("ok: values match values.schema.json");
}

if (mode === "objects" && args.length === 1) await validateObjects(args[0]);
else if (mode === "values" && args.length === 2) validateValues(args[0], args[1]);
else fail(["usage: node validate.mjs objects OBJECTS.json | values SCHEMA.json VALUES.json"]);
