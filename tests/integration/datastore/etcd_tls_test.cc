// The etcd backend over TLS: a throwaway CA, server and client certificates made with the
// openssl command line, etcd requiring client certificates, and etcds:// URLs with
// cacert/cert/key. Also: without the client certificate etcd refuses the connection.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "datastore/etcd/etcd_backend.h"
#include "tests/support/etcd_process.h"

namespace coral::datastore {
namespace {

class Certificates {
 public:
  Certificates() {
    char pattern[] = "/tmp/coral-etcd-tls-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) dir_ = pattern;
  }
  ~Certificates() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // CA, server certificate for IP 127.0.0.1, client certificate; false when openssl fails.
  bool make() {
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=IP:127.0.0.1\n"
                                        << "extendedKeyUsage=serverAuth,clientAuth\n";
    std::ofstream(dir_ + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string script = fmt::format(
        "set -e; cd {0}; exec >openssl.log 2>&1;"
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
        "-subj /CN=coral-test-ca;"
        "for who in server client; do "
        "openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who;"
        "openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile $who.ext -out $who.pem; done",
        dir_);
    return !dir_.empty() && std::system(script.c_str()) == 0;
  }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

 private:
  std::string dir_;
};

TEST(EtcdTls, EtcdsUrlWithClientCertificate) {
  Certificates certs;
  ASSERT_TRUE(certs.make()) << "openssl failed (Debian package openssl); see "
                            << certs.path("openssl.log");
  auto launched = coral::testing::EtcdProcess::launch(
      {}, coral::testing::EtcdProcess::Tls{certs.path("server.pem"), certs.path("server.key"),
                                           certs.path("ca.pem")});
  ASSERT_TRUE(launched.ok()) << launched.status();
  auto& etcd = **launched;

  auto backend =
      openEtcdBackend(fmt::format("{}?cacert={}&cert={}&key={}", etcd.url(), certs.path("ca.pem"),
                                  certs.path("client.pem"), certs.path("client.key")));
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto rev = (*backend)->create("/tls/a", "1");
  ASSERT_TRUE(rev.ok()) << rev.status();
  auto kv = (*backend)->get("/tls/a");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, "1");
  auto watch = (*backend)->watch("/tls/", *rev);
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto events = (*watch)->next(std::chrono::seconds(5));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 1u);

  // No client certificate: the handshake fails, which the backend reports as unavailable.
  auto anonymous = openEtcdBackend(
      fmt::format("{}?cacert={}&timeout_ms=1000", etcd.url(), certs.path("ca.pem")));
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_EQ((*anonymous)->get("/tls/a").status().code(), absl::StatusCode::kUnavailable);
  // Plain text against a TLS port does not work either.
  auto plain = openEtcdBackend(fmt::format("etcd://{}?timeout_ms=1000", etcd.endpoint()));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE((*plain)->get("/tls/a").ok());
}

}  // namespace
}  // namespace coral::datastore
