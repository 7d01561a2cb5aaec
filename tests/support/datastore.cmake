# Datastore test support, included by the CMakeLists.txt of every test folder that uses it
# (include(${CMAKE_SOURCE_DIR}/tests/support/datastore.cmake); the guard makes repeats no-ops):
#   coral_datastore_test_url     openTestBackend(url): URL dispatch for tests and tools
#   coral-datastore-writer       the multi-process writer tool (datastore_writer.cc)
#   coral_datastore_conformance  link this to instantiate datastore_conformance.h; it builds
#                                the writer first and tells the suite where it is
include_guard(GLOBAL)
set(_coral_support "${CMAKE_SOURCE_DIR}/tests/support")

add_library(coral_datastore_test_url STATIC "${_coral_support}/datastore_url.cc")
target_link_libraries(coral_datastore_test_url PUBLIC coral_datastore_file coral_datastore_etcd
  coral_datastore_kubernetes coral_common
  fmt::fmt)

add_executable(coral-datastore-writer "${_coral_support}/datastore_writer.cc")
target_link_libraries(coral-datastore-writer PRIVATE coral_datastore_test_url)
set_target_properties(coral-datastore-writer PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests/support")

add_library(coral_datastore_conformance INTERFACE)
target_link_libraries(coral_datastore_conformance INTERFACE coral_datastore_test_url)
target_compile_definitions(coral_datastore_conformance INTERFACE
  CORAL_DATASTORE_WRITER_PATH="$<TARGET_FILE:coral-datastore-writer>")
add_dependencies(coral_datastore_conformance coral-datastore-writer)
