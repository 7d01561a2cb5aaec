// `coralctl lab datastore stop|start`: takes an etcd lab's datastore away and brings it
// back, to watch what the cluster does without it (and for the e2e outage test). Only
// labs made with `lab up --datastore etcd`; a file-store lab has no datastore process.
#pragma once

#include <iosfwd>
#include <string>

#include "absl/status/status.h"

namespace coral::lab {

enum class DatastoreStop {
  // SIGSTOP: etcd keeps its socket and its connections, but answers nothing. Requests
  // hang until their deadline, as with a partitioned or overloaded etcd. The default:
  // it is the case that needs deadlines everywhere.
  kFreeze,
  // SIGTERM (SIGKILL after 5 s): etcd is gone, connections are refused at once.
  kKill,
};

// Stops the lab's etcd by its recorded pid. Stopping a frozen etcd with kKill kills it;
// stopping it again the same way says so and succeeds.
absl::Status datastoreStop(const std::string& lab, DatastoreStop how, std::ostream& out);

// Resumes a frozen etcd (SIGCONT), or starts a killed one again with the same command
// line, data dir and socket (saved by datastoreStop), records its new pid, and returns
// once it answers /health. A running etcd is left alone.
absl::Status datastoreStart(const std::string& lab, std::ostream& out);

// For `lab status`: "running, pid N", "FROZEN (SIGSTOP), pid N" or "DOWN".
std::string etcdProcessState(int pid);

}  // namespace coral::lab
