// YAML in and out: multi-document streams to JSON (one result per document, so one bad
// document does not hide the others) and JSON back to YAML for `coralctl get -o yaml`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/codec.h"
#include "model/meta.h"

namespace coral::model {

struct YamlDocument {
  int index = 0;  // 1-based position in the stream
  int line = 0;   // 1-based line where the document starts
  absl::StatusOr<Json> json = Json();
};

// Splits on `---` markers and converts each document; a document may start on its marker
// line (`--- {kind: IPPool, ...}`). Empty documents are skipped and not counted in index.
// Plain scalars become booleans, integers, floats or null as YAML 1.2's core schema says;
// quoted scalars stay strings.
std::vector<YamlDocument> parseYamlDocuments(std::string_view text);

// Strings that a YAML 1.1 reader (kubectl, PyYAML) would read as a bool, number,
// timestamp or null ("yes", "off", "1_000", "2026-01-01", "~") are written quoted.
std::string jsonToYaml(const Json& json);

struct ParsedResource {
  int index = 0;
  int line = 0;
  absl::StatusOr<Resource> resource = Resource();
};

// YAML/JSON text → validated, defaulted resources, one result per document; a document
// of kind List (apiVersion v1) contributes each of its items.
std::vector<ParsedResource> parseResources(std::string_view text);

// JSON → Resource with field-path errors (no kind-specific validation).
absl::StatusOr<Resource> resourceFromJson(const Json& json);
Json resourceToJson(const Resource& resource);

}  // namespace coral::model
