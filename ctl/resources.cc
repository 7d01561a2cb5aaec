#include "ctl/resources.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/strings.h"
#include "ctl/table.h"
#include "model/yaml.h"

namespace coral::ctl {
namespace {

struct Source {
  std::string name;  // file path or "-"
  std::string text;
};

// Reads -f arguments: files, directories (their *.yaml, *.yml, *.json, sorted) or "-".
absl::StatusOr<std::vector<Source>> readSources(const std::vector<std::string>& files) {
  std::vector<Source> out;
  for (const auto& f : files) {
    if (f == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      out.push_back({"<stdin>", ss.str()});
      continue;
    }
    std::error_code ec;
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(f, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(f, ec)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
          paths.push_back(entry.path());
        }
      }
      std::sort(paths.begin(), paths.end());
      if (paths.empty()) {
        return absl::InvalidArgumentError(
            fmt::format("{}: no .yaml, .yml or .json files in this directory", f));
      }
    } else {
      paths.emplace_back(f);
    }
    for (const auto& p : paths) {
      std::ifstream in(p);
      if (!in) {
        return absl::NotFoundError(
            fmt::format("{}: cannot read: {}", p.string(), std::strerror(errno)));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back({p.string(), ss.str()});
    }
  }
  return out;
}

std::string lowerKind(const std::string& kind) {
  std::string s = kind;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// kubectl's way of naming a resource: "ippool/blue", and for kinds of other API groups
// "networkpolicy.networking.k8s.io/allow" so it cannot be confused with Coral's own.
std::string refName(std::string_view api_version, const std::string& kind,
                    const std::string& name) {
  const size_t slash = api_version.find('/');
  const std::string_view group =
      slash == std::string_view::npos ? "" : api_version.substr(0, slash);
  if (group.empty() || api_version == model::kApiGroupVersion) {
    return fmt::format("{}/{}", lowerKind(kind), name);
  }
  return fmt::format("{}.{}/{}", lowerKind(kind), group, name);
}
std::string refName(const model::Resource& r) {
  return refName(r.api_version, r.kind, r.metadata.name);
}

std::string ageOf(const std::string& creation_timestamp) {
  std::tm tm{};
  std::istringstream in(creation_timestamp);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail()) return "-";
  const auto created = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - created)
          .count();
  if (secs < 0) return "0s";
  if (secs < 120) return fmt::format("{}s", secs);
  if (secs < 7200) return fmt::format("{}m", secs / 60);
  if (secs < 172800) return fmt::format("{}h", secs / 3600);
  return fmt::format("{}d", secs / 86400);
}

void printTable(const model::KindInfo& kind, const std::vector<model::Resource>& items, bool wide,
                bool show_namespace, std::ostream& out) {
  std::vector<std::string> headers;
  if (show_namespace) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  for (const auto& c : kind.columns) headers.push_back(c);
  if (wide) {
    for (const auto& c : kind.wide_columns) headers.push_back(c);
  }
  headers.push_back("AGE");
  Table table(headers);
  for (const auto& r : items) {
    std::vector<std::string> row;
    if (show_namespace) row.push_back(r.metadata.namespace_);
    row.push_back(r.metadata.name);
    auto values = kind.row(r);
    const size_t n = wide ? values.size() : kind.columns.size();
    for (size_t i = 0; i < n && i < values.size(); ++i) row.push_back(values[i]);
    row.push_back(ageOf(r.metadata.creation_timestamp));
    table.addRow(std::move(row));
  }
  table.print(out);
}

}  // namespace

int runApply(datastore::ResourceStore& store, const std::vector<std::string>& files,
             std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "error: apply needs -f FILE, -f DIR or -f -\n";
    return 1;
  }
  auto sources = readSources(files);
  if (!sources.ok()) {
    err << "error: " << errorMessage(sources.status()) << '\n';
    return 1;
  }
  int failures = 0;
  int applied = 0;
  for (const auto& source : *sources) {
    auto docs = model::parseResources(source.text);
    for (auto& doc : docs) {
      if (!doc.resource.ok()) {
        err << fmt::format("error: {} (document {}, line {}): {}\n", source.name, doc.index,
                           doc.line, errorMessage(doc.resource.status()));
        ++failures;
        continue;
      }
      auto result = store.apply(*doc.resource);
      if (!result.ok()) {
        err << fmt::format("error: {} (document {}): {}\n", source.name, doc.index,
                           errorMessage(result.status()));
        ++failures;
        continue;
      }
      ++applied;
      out << fmt::format("{} {}\n", refName(result->first), applyResultName(result->second));
    }
  }
  if (failures == 0 && applied == 0) {
    err << "error: no resources found in the input\n";
    return 1;
  }
  return failures == 0 ? 0 : 1;
}

int runGet(datastore::ResourceStore& store, const GetOptions& o, std::ostream& out,
           std::ostream& err) {
  const model::KindInfo* kind = model::findKindByName(o.kind);
  if (kind == nullptr) {
    std::vector<std::string> names;
    for (const auto& k : model::allKinds()) names.push_back(k.plural);
    err << fmt::format("error: unknown resource type \"{}\" (known: {})\n", o.kind,
                       join(names, ", "));
    return 1;
  }
  if (o.output != "" && o.output != "wide" && o.output != "yaml" && o.output != "json" &&
      o.output != "name") {
    err << fmt::format("error: -o \"{}\": use wide, yaml, json or name\n", o.output);
    return 1;
  }
  auto selector = common::LabelSelector::parse(o.selector);
  if (!selector.ok()) {
    err << "error: -l: " << errorMessage(selector.status()) << '\n';
    return 1;
  }
  const std::string ns = o.ns.empty() ? "default" : o.ns;
  std::vector<model::Resource> items;
  int failures = 0;
  if (o.names.empty()) {
    std::optional<std::string_view> list_ns;
    if (kind->namespaced && !o.all_namespaces) list_ns = ns;
    auto list = store.list(*kind, list_ns, *selector);
    if (!list.ok()) {
      err << "error: " << errorMessage(list.status()) << '\n';
      return 1;
    }
    items = std::move(list->items);
  } else {
    for (const auto& name : o.names) {
      auto r = store.get(*kind, kind->namespaced ? ns : "", name);
      if (!r.ok()) {
        err << "error: " << errorMessage(r.status()) << '\n';
        ++failures;
        continue;
      }
      items.push_back(std::move(*r));
    }
  }
  const bool single = !o.names.empty() && o.names.size() == 1;
  if (o.output == "yaml") {
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out << "---\n";
      out << model::jsonToYaml(model::resourceToJson(items[i]));
    }
  } else if (o.output == "json") {
    if (single && items.size() == 1) {
      out << model::resourceToJson(items[0]).dump(2) << '\n';
    } else {
      model::Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", model::Json::array()}};
      for (const auto& r : items) list["items"].push_back(model::resourceToJson(r));
      out << list.dump(2) << '\n';
    }
  } else if (o.output == "name") {
    for (const auto& r : items) out << refName(r) << '\n';
  } else if (items.empty()) {
    if (failures == 0) {
      if (kind->namespaced && !o.all_namespaces) {
        err << fmt::format("No {} found in namespace {}.\n", kind->plural, ns);
      } else {
        err << fmt::format("No {} found.\n", kind->plural);
      }
    }
  } else {
    printTable(*kind, items, o.output == "wide", kind->namespaced && o.all_namespaces, out);
  }
  return failures == 0 ? 0 : 1;
}

int runDelete(datastore::ResourceStore& store, const DeleteOptions& o, std::ostream& out,
              std::ostream& err) {
  struct Target {
    const model::KindInfo* kind;
    std::string ns;
    std::string name;
    std::string origin;
  };
  std::vector<Target> targets;
  int failures = 0;
  if (!o.files.empty()) {
    if (!o.kind.empty()) {
      err << "error: give either -f FILE or KIND NAME, not both\n";
      return 1;
    }
    auto sources = readSources(o.files);
    if (!sources.ok()) {
      err << "error: " << errorMessage(sources.status()) << '\n';
      return 1;
    }
    for (const auto& source : *sources) {
      for (auto& doc : model::parseResources(source.text)) {
        if (!doc.resource.ok()) {
          err << fmt::format("error: {} (document {}, line {}): {}\n", source.name, doc.index,
                             doc.line, errorMessage(doc.resource.status()));
          ++failures;
          continue;
        }
        const auto& r = *doc.resource;
        targets.push_back({model::findKind(r.api_version, r.kind), r.metadata.namespace_,
                           r.metadata.name, source.name});
      }
    }
  } else {
    const model::KindInfo* kind = model::findKindByName(o.kind);
    if (kind == nullptr) {
      err << fmt::format("error: unknown resource type \"{}\"\n", o.kind);
      return 1;
    }
    if (o.names.empty()) {
      err << "error: delete needs KIND NAME... or -f FILE\n";
      return 1;
    }
    for (const auto& name : o.names) {
      targets.push_back(
          {kind, kind->namespaced ? (o.ns.empty() ? "default" : o.ns) : "", name, ""});
    }
  }
  for (const auto& t : targets) {
    auto removed = store.remove(*t.kind, t.ns, t.name);
    if (!removed.ok()) {
      if (datastore::isNotFound(removed.status()) && o.ignore_not_found) continue;
      err << "error: " << errorMessage(removed.status()) << '\n';
      ++failures;
      continue;
    }
    out << fmt::format("{} deleted\n", refName(t.kind->api_version, t.kind->kind, t.name));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace coral::ctl
