#!/usr/bin/env node
// Validates Kubernetes objects against the Kubernetes API's OpenAPI schemas, as compiled
// into the npm package kubernetes-models (Kubernetes 1.27 schemas; types, required
// fields, enums and formats; it does not reject unknown fields).
//
//   node validate.js FILE...   (YAML streams; "-" reads stdin)
//
// Prints one line per document: "ok FILE#N Kind/name", "skip FILE#N Kind/name (custom
// resource)" for coral.network objects (tests/unit/manifests checks those against their
// CRDs), or "error FILE#N Kind/name: reason". Exits 1 when any document is invalid or of
// a kind this package does not know, 2 on a usage error.
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  // "v1" → kubernetes-models/v1, "apps/v1" → kubernetes-models/apps/v1
  let mod;
  try {
    mod = require(`kubernetes-models/${apiVersion}`);
  } catch (e) {
    return null;
  }
  return mod[kind] || null;
}

function describe(doc) {
  const name = doc && doc.metadata && doc.metadata.name ? doc.metadata.name : "?";
  return `${doc && doc.kind ? doc.kind : "?"}/${name}`;
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: validate.js FILE...");
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    let docs;
    try {
      docs = yaml.loadAll(text);
    } catch (e) {
      console.log(`error ${file}: YAML: ${e.message}`);
      failed++;
      continue;
    }
    docs.forEach((doc, i) => {
      const where = `${file}#${i + 1} ${describe(doc)}`;
      if (doc === null || doc === undefined) return;
      if (typeof doc.apiVersion === "string" && doc.apiVersion.startsWith("coral.network/")) {
        console.log(`skip ${where} (custom resource)`);
        return;
      }
      const Model = modelFor(doc.apiVersion, doc.kind);
      if (!Model) {
        console.log(`error ${where}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
        failed++;
        return;
      }
      try {
        new Model(doc).validate();
        console.log(`ok ${where}`);
      } catch (e) {
        const details = e.errors
          ? e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`).join("; ")
          : e.message;
        console.log(`error ${where}: ${details}`);
        failed++;
      }
    });
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
