# Finds Coral's dependencies. Every one is a Debian 12 package; a missing one stops
# configure with the name of the package to install (scripts/setup-debian.sh installs all).
# Every lookup goes through this file, so that holds for each of them.

function(coral_fail what debian_package)
  message(FATAL_ERROR "Coral needs ${what}: install the Debian package '${debian_package}' "
                      "(or run scripts/setup-debian.sh)")
endfunction()

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  coral_fail("pkg-config" "pkg-config")
endif()

# pkg-config modules, each with its Debian package.
function(coral_pkg target module debian_package)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    coral_fail("${module}" "${debian_package}")
  endif()
endfunction()

# CMake config packages, each with its Debian package.
macro(coral_find name debian_package)
  find_package(${name} CONFIG QUIET ${ARGN})
  if(NOT ${name}_FOUND)
    coral_fail("${name}" "${debian_package}")
  endif()
endmacro()

coral_find(absl libabsl-dev)
coral_find(fmt libfmt-dev)
coral_find(yaml-cpp libyaml-cpp-dev)
coral_find(nlohmann_json nlohmann-json3-dev)
find_package(Protobuf QUIET)
if(NOT Protobuf_FOUND)
  coral_fail("Protobuf" "libprotobuf-dev and protobuf-compiler")
endif()
coral_pkg(GRPCPP grpc++ libgrpc++-dev)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin)
if(NOT GRPC_CPP_PLUGIN)
  coral_fail("grpc_cpp_plugin" "protobuf-compiler-grpc")
endif()
coral_pkg(LIBNL libnl-3.0 libnl-3-dev)
coral_pkg(LIBNL_ROUTE libnl-route-3.0 libnl-route-3-dev)
coral_pkg(NFTABLES libnftables libnftables-dev)
coral_pkg(NFTNL libnftnl libnftnl-dev)
coral_pkg(MNL libmnl libmnl-dev)
find_package(Boost 1.74 QUIET COMPONENTS system)
if(NOT Boost_FOUND)
  coral_fail("Boost (Asio, Beast)" "libboost-dev and libboost-system-dev")
endif()
find_package(Threads REQUIRED)
# TLS for the Kubernetes API client (datastore/kubernetes) and its fake server in tests.
find_package(OpenSSL QUIET)
if(NOT OPENSSL_FOUND)
  coral_fail("OpenSSL" "libssl-dev")
endif()
find_path(CLI11_INCLUDE CLI/CLI.hpp)
if(NOT CLI11_INCLUDE)
  coral_fail("CLI11" "libcli11-dev")
endif()
if(CORAL_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    coral_fail("GoogleTest" "libgtest-dev and libgmock-dev")
  endif()
endif()
if(CORAL_BUILD_BENCH)
  coral_find(benchmark libbenchmark-dev)
endif()

# protoc + grpc_cpp_plugin over a list of .proto files; adds the generated sources to TARGET.
function(coral_grpc_generate target proto_root)
  set(outputs)
  foreach(proto ${ARGN})
    get_filename_component(abs "${proto}" ABSOLUTE)
    file(RELATIVE_PATH rel "${proto_root}" "${abs}")
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    set(out_dir "${CMAKE_BINARY_DIR}/proto")
    set(gen "${out_dir}/${base}.pb.cc" "${out_dir}/${base}.pb.h"
            "${out_dir}/${base}.grpc.pb.cc" "${out_dir}/${base}.grpc.pb.h")
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
      COMMAND protobuf::protoc --proto_path=${proto_root} --cpp_out=${out_dir}
              --grpc_out=${out_dir} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} "${abs}"
      DEPENDS "${abs}"
      COMMENT "protoc ${rel}")
    list(APPEND outputs ${gen})
  endforeach()
  target_sources(${target} PRIVATE ${outputs})
  target_include_directories(${target} PUBLIC "${CMAKE_BINARY_DIR}/proto")
endfunction()

# Links TARGET's gRPC, protobuf and abseil (and with SECURE, grpc++ with TLS and OpenSSL)
# from Debian's static archives. For binaries a runtime execs per pod (coral-cni,
# coral-ipam): linked against ~58 shared libraries they spent ~12 ms in the dynamic loader
# before main(), three times the reference plugins' whole run. The archives come after
# Coral's own, in one group, so every such symbol resolves there; --as-needed then drops
# the shared copies. CORAL_STATIC_PLUGINS=OFF, or a missing archive, keeps them shared.
option(CORAL_STATIC_PLUGINS "link the CNI binaries' gRPC, protobuf and abseil statically" ON)
function(coral_link_grpc_statically target)
  cmake_parse_arguments(ARG "SECURE" "" "" ${ARGN})
  if(NOT CORAL_STATIC_PLUGINS)
    return()
  endif()
  set(libdir /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
  if(ARG_SECURE)
    set(names grpc++ grpc gpr upb address_sorting cares re2 z protobuf ssl crypto)
  else()
    set(names grpc++_unsecure grpc_unsecure gpr upb address_sorting cares re2 z protobuf)
  endif()
  set(archives)
  foreach(name ${names})
    if(NOT EXISTS ${libdir}/lib${name}.a)
      message(STATUS "${target}: ${libdir}/lib${name}.a missing, linking it dynamically")
      return()
    endif()
    list(APPEND archives ${libdir}/lib${name}.a)
  endforeach()
  file(GLOB absl ${libdir}/libabsl_*.a)
  target_link_libraries(${target} PRIVATE "-Wl,--start-group" ${archives} ${absl}
                        "-Wl,--end-group" ${CMAKE_DL_LIBS})
  target_link_options(${target} PRIVATE "-Wl,--as-needed")
endfunction()
