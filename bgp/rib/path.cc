// The local path source and path identity.
#include "bgp/rib/path.h"

namespace coral::bgp {

PathSourcePtr localSource() {
  static const PathSourcePtr kLocal = [] {
    auto s = std::make_shared<PathSource>();
    s->id = PathSource::kLocalId;
    s->name = "local";
    return s;
  }();
  return kLocal;
}

bool Path::sameAs(const Path& other) const {
  if (sourceId() != other.sourceId() || weight != other.weight) return false;
  if (attrs == other.attrs) return true;
  return attrs && other.attrs && *attrs == *other.attrs;
}

}  // namespace coral::bgp
