#!/usr/bin/env node
// Validates Kubernetes objects against the Kubernetes API: the OpenAPI schemas as compiled
// into the npm package kubernetes-models (Kubernetes 1.27: types, required fields, enums,
// formats), and, since those schemas accept any extra field, the field lists of the
// official client's models (@kubernetes/client-node 0.22, Kubernetes 1.30): a field the
// API does not have is an error, as with `kubectl apply --validate=strict`.
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
const client = require("@kubernetes/client-node");

// The client-node model of a top-level object: "apps/v1" DaemonSet → "V1DaemonSet".
function clientModelFor(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  const name = version.charAt(0).toUpperCase() + version.slice(1) + kind;
  const cls = client[name];
  return cls && typeof cls.getAttributeTypeMap === "function" ? name : null;
}

// Unknown fields of `value` read as client-node type `type`, with their paths.
function unknownFields(value, type, path, out) {
  if (value === null || value === undefined || typeof value !== "object") return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${path}[${i}]`, out));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${path}.${k}`, out);
    return;
  }
  const cls = client[type];
  if (!cls || typeof cls.getAttributeTypeMap !== "function") return;  // scalars, any, object
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const at = path ? `${path}.${k}` : k;
    if (!attrs.has(k)) {
      out.push(`${at}: unknown field`);
      continue;
    }
    let t = attrs.get(k);
    // Schemas nest schemas where the model only says "object".
    if (type === "V1JSONSchemaProps" && (k === "items" || k === "additionalProperties")) {
      t = "V1JSONSchemaProps";
    }
    unknownFields(v, t, at, out);
  }
}

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
      const strict = [];
      const model = clientModelFor(doc.apiVersion, doc.kind);
      if (!model) {
        console.log(`error ${where}: no field list for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
        failed++;
        return;
      }
      unknownFields(doc, model, "", strict);
      const problems = [];
      try {
        new Model(doc).validate();
      } catch (e) {
        if (e.errors) problems.push(...e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`));
        else problems.push(e.message);
      }
      problems.push(...strict);
      if (problems.length) {
        console.log(`error ${where}: ${problems.join("; ")}`);
        failed++;
      } else {
        console.log(`ok ${where}`);
      }
    });
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
