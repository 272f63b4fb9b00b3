#include "xmlrpc/listen_socket.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::TempDir;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0);
  return st.st_mode;
}

TEST(ListenSocketTest, UnixSocketHasExactModeWhateverTheUmask) {
  TempDir dir;
  mode_t old = umask(0);
  Result<int> fd = ListenUnix(dir.File("sock"), 0600);
  umask(old);
  ASSERT_OK(fd) << fd.fault().message;
  mode_t mode = ModeOf(dir.File("sock"));
  EXPECT_TRUE(S_ISSOCK(mode));
  EXPECT_EQ(mode & 07777, 0600u);
  int client = xmlrpc_test::ConnectUnix(dir.File("sock"));
  EXPECT_GE(client, 0);
  close(client);
  close(fd.value());
  // Nothing is left behind but the socket.
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(ListenSocketTest, OtherModes) {
  TempDir dir;
  Result<int> fd = ListenUnix(dir.File("s"), 0660);
  ASSERT_OK(fd);
  EXPECT_EQ(ModeOf(dir.File("s")) & 07777, 0660u);
  close(fd.value());
}

TEST(ListenSocketTest, StaleSocketIsReplacedLiveOneRefused) {
  TempDir dir;
  std::string path = dir.File("s");
  Result<int> first = ListenUnix(path, 0600);
  ASSERT_OK(first);
  Result<int> second = ListenUnix(path, 0600);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.fault().message.find("in use"), std::string::npos);
  EXPECT_EQ(second.fault().code, interop::kTransportError);
  close(first.value());  // now stale: the file stays, nobody listens
  Result<int> third = ListenUnix(path, 0600);
  ASSERT_OK(third) << third.fault().message;
  close(third.value());
}

TEST(ListenSocketTest, RefusesToReplaceOtherFiles) {
  TempDir dir;
  std::ofstream(dir.File("file")) << "data";
  Result<int> fd = ListenUnix(dir.File("file"), 0600);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.fault().message.find("not a socket"), std::string::npos);
  std::ifstream in(dir.File("file"));
  std::string content;
  in >> content;
  EXPECT_EQ(content, "data");
}

TEST(ListenSocketTest, BadPaths) {
  EXPECT_FALSE(ListenUnix("", 0600).ok());
  EXPECT_FALSE(ListenUnix("/tmp/" + std::string(200, 'x'), 0600).ok());
  EXPECT_FALSE(ListenUnix("/nonexistent-dir-xyz/s", 0600).ok());
}

TEST(ListenSocketTest, LoopbackTcpPicksAPort) {
  int port = -1;
  Result<int> fd = ListenLoopbackTcp(0, &port);
  ASSERT_OK(fd) << fd.fault().message;
  EXPECT_GT(port, 0);
  int client = xmlrpc_test::ConnectTcp(port);
  EXPECT_GE(client, 0);
  close(client);
  // The same port cannot be bound twice.
  int again = -1;
  EXPECT_FALSE(ListenLoopbackTcp(port, &again).ok());
  close(fd.value());
  EXPECT_FALSE(ListenLoopbackTcp(70000, &again).ok());
}

}  // namespace
}  // namespace xmlrpc
